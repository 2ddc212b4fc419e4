"""Inpatient episodes and commissioner oversight visits.

DOMAIN.md "C(E)TRs" and "Risk rating": an admission rates the person Blue, a discharge Red.
An episode is edited (ward moves, a new section, a delayed discharge), so it is versioned;
a visit is a dated fact, never changed. Neither is ever deleted.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from dsr.core import dates
from dsr.core.models import (
    CareQuerySet,
    Immutable,
    Versioned,
    immutable_triggers,
    one_of,
    undeletable_triggers,
)
from dsr.hospital import rules
from dsr.hospital.choices import (
    DISCHARGE_DESTINATIONS,
    SECURE_WARDS,
    LegalStatus,
    NextCetr,
    ProviderSector,
    WardType,
)
from dsr.people.models import place_follows_person


class AdmissionQuerySet(CareQuerySet):
    def current(self) -> AdmissionQuerySet:
        """Episodes still open: the person is in hospital."""
        return self.filter(discharged_on__isnull=True)


class Admission(Versioned):
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="admissions")
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")

    hospital = models.CharField("Hospital", max_length=200)
    provider = models.CharField("Provider", max_length=200)
    provider_sector = models.CharField(
        "NHS or independent provider", max_length=12, choices=ProviderSector.choices
    )
    ward_type = models.CharField("Ward type", max_length=20, choices=WardType.choices)
    distance_miles = models.PositiveIntegerField(
        "Distance from home (miles)", null=True, blank=True
    )
    out_of_area = models.BooleanField("Out of area", default=False)
    legal_status = models.CharField("Legal status", max_length=12, choices=LegalStatus.choices)
    on_register_before = models.BooleanField("On the register before admission", default=False)
    admitted_on = models.DateField("Date admitted")
    discharged_on = models.DateField("Date discharged", null=True, blank=True)
    discharge_destination = models.CharField(
        "Discharged to", max_length=32, choices=DISCHARGE_DESTINATIONS, blank=True
    )
    delayed_discharge = models.BooleanField("Delayed discharge", default=False)
    delay_reason = models.TextField("Why the discharge is delayed", max_length=2000, blank=True)

    # Whether a community C(E)TR was held before this admission, and the last post-admission
    # or inpatient C(E)TR held during it: the facts its next C(E)TR is due from. Kept by the
    # services (reviews writes them through hospital's), as the register keeps its copy of
    # the current rating (ADR 0007, ADR 0023).
    community_cetr_before = models.BooleanField(default=False)
    last_cetr_on = models.DateField(null=True, blank=True)
    # What is due next while the person is in hospital, by policy (hospital/rules.py), so
    # the overview, the schedule and My work filter and sort on them in one indexed query.
    cetr_due = models.DateField(null=True, blank=True)
    cetr_due_kind = models.CharField(max_length=16, choices=NextCetr.choices, blank=True)
    visit_due = models.DateField(null=True, blank=True)

    # A coordinator's record of why the person need not stay Red for the whole period after
    # discharge (DOMAIN.md "Red for at least 14 days"; issue 10, part 1).
    red_lifted_on = models.DateField(null=True, blank=True)
    red_lifted_reason = models.TextField(max_length=2000, blank=True)
    red_lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = AdmissionQuerySet.as_manager()  # type: ignore[misc]

    class Meta:
        ordering = ["-admitted_on", "-id"]
        indexes = [
            models.Index(fields=["person", "-admitted_on"], name="admission_person_idx"),
            # The inpatient overview and the schedule: a place's open episodes.
            models.Index(
                fields=["place", "admitted_on"],
                condition=Q(discharged_on__isnull=True),
                name="admission_current_idx",
            ),
            models.Index(
                fields=["place", "cetr_due"],
                condition=Q(discharged_on__isnull=True),
                name="admission_cetr_due_idx",
            ),
            models.Index(
                fields=["place", "visit_due"],
                condition=Q(discharged_on__isnull=True),
                name="admission_visit_due_idx",
            ),
        ]
        constraints = [
            # One open episode per person (the services refuse overlaps as well).
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(discharged_on__isnull=True),
                name="one_open_admission_per_person",
            ),
            one_of("provider_sector", ProviderSector.choices, name="admission_sector_valid"),
            one_of("ward_type", WardType.choices, name="admission_ward_type_valid"),
            one_of("legal_status", LegalStatus.choices, name="admission_legal_status_valid"),
            one_of(
                "discharge_destination",
                DISCHARGE_DESTINATIONS,
                blank=True,
                name="admission_destination_valid",
            ),
            one_of("cetr_due_kind", NextCetr.choices, blank=True, name="admission_due_kind_valid"),
            # Open: due dates, no discharge. Discharged: a destination, on or after admission,
            # and nothing more due.
            models.CheckConstraint(
                condition=(
                    Q(
                        discharged_on__isnull=True,
                        discharge_destination="",
                        cetr_due__isnull=False,
                        visit_due__isnull=False,
                    )
                    & ~Q(cetr_due_kind="")
                )
                | (
                    Q(
                        discharged_on__isnull=False,
                        discharged_on__gte=F("admitted_on"),
                        cetr_due__isnull=True,
                        visit_due__isnull=True,
                        cetr_due_kind="",
                    )
                    & ~Q(discharge_destination="")
                ),
                name="admission_open_or_discharged",
            ),
            models.CheckConstraint(
                condition=~Q(delayed_discharge=True, delay_reason=""),
                name="admission_delay_has_reason",
            ),
            models.CheckConstraint(
                condition=Q(red_lifted_on__isnull=True)
                | (Q(discharged_on__isnull=False) & ~Q(red_lifted_reason="")),
                name="admission_red_lifted_with_reason",
            ),
        ]
        triggers = [*undeletable_triggers("admission"), place_follows_person("admission_in_place")]

    def __str__(self) -> str:
        return f"{self.hospital}, admitted {self.admitted_on}"

    @property
    def is_current(self) -> bool:
        return self.discharged_on is None

    @property
    def is_secure(self) -> bool:
        return self.ward_type in SECURE_WARDS

    @property
    def length_of_stay(self) -> int:
        """Days in hospital: to today while the episode is open (shown live)."""
        return ((self.discharged_on or dates.today()) - self.admitted_on).days

    def red_until(self, policy: object) -> date | None:
        """The first day a rating other than Red may be given without a coordinator's
        reason (DOMAIN.md: "Red for at least 14 days", a setting)."""
        if self.discharged_on is None:
            return None
        return rules.red_until(policy, self.discharged_on)


class OversightVisit(Immutable):
    """A commissioner's oversight visit to an inpatient: a dated fact with its findings."""

    admission = models.ForeignKey(Admission, on_delete=models.PROTECT, related_name="visits")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    visited_on = models.DateField("Date of the visit")
    visited_by = models.CharField("Who visited", max_length=200)
    findings = models.TextField("Findings", max_length=8000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["admission", "-visited_on"], name="visit_admission_idx")]
        triggers = [*immutable_triggers("visit"), place_follows_person("visit_in_place")]

    def __str__(self) -> str:
        return f"Oversight visit on {self.visited_on}"
