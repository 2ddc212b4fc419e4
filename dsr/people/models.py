"""The person on the register: identity, circumstances and what keeps them safe."""

from __future__ import annotations

from datetime import date

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from dsr.core import dates
from dsr.core.guards import Guard
from dsr.core.models import (
    CareQuerySet,
    Immutable,
    Versioned,
    immutable_triggers,
    one_of,
    undeletable_triggers,
)
from dsr.people.choices import (
    Accommodation,
    Attendance,
    Autism,
    CircumstanceArea,
    ClosureReason,
    ConsentState,
    EHCPlan,
    Ethnicity,
    LearningDisability,
    MemberKind,
    Relationship,
    Standing,
    Status,
)

RATINGS = [("R", "Red"), ("A", "Amber"), ("G", "Green"), ("B", "Blue")]


def place_follows_person(name: str) -> pgtrigger.Trigger:
    """A record about a person keeps a place column of its own (for indexes); in PostgreSQL
    this trigger holds it to the person's place, whoever writes the row (ADR 0012), whatever
    the session has set (a Guard: core/guards.py)."""
    return Guard(
        name=name,
        when=pgtrigger.Before,
        operation=pgtrigger.Insert | pgtrigger.Update,
        func=(
            "IF NEW.place_id IS DISTINCT FROM "
            "(SELECT place_id FROM people_person WHERE id = NEW.person_id) THEN "
            "RAISE EXCEPTION 'dsr: a row of % must be in its person''s place', TG_TABLE_NAME "
            "USING ERRCODE = 'check_violation'; END IF; RETURN NEW;"
        ),
    )


class PersonQuerySet(CareQuerySet):
    def open(self) -> PersonQuerySet:
        return self.filter(status=Status.OPEN)


class Person(Versioned):
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="people")

    # Identity
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    nhs_number = models.CharField("NHS number", max_length=10, blank=True, db_index=True)
    ethnicity = models.CharField(
        max_length=2, choices=Ethnicity.choices, default=Ethnicity.NOT_KNOWN
    )
    address = models.TextField(max_length=500, blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    local_authority = models.CharField(max_length=100, blank=True)
    gp_practice = models.CharField("GP practice", max_length=150, blank=True)
    # The names as they are searched (core/text.py: case, accents and apostrophes folded);
    # kept by the services whenever a name is written.
    search_name = models.CharField(max_length=400, blank=True, editable=False)

    # Circumstances
    accommodation = models.CharField(max_length=32, choices=Accommodation.choices)
    learning_disability = models.CharField(max_length=12, choices=LearningDisability.choices)
    autism = models.CharField(max_length=12, choices=Autism.choices)
    diagnosis_notes = models.TextField(max_length=2000, blank=True)
    education_setting = models.CharField(max_length=150, blank=True)
    education_attendance = models.CharField(max_length=20, choices=Attendance.choices, blank=True)
    ehc_plan = models.CharField(
        "EHC plan", max_length=16, choices=EHCPlan.choices, default=EHCPlan.NO
    )
    looked_after = models.BooleanField("Looked-after child", default=False)
    child_protection_plan = models.BooleanField(default=False)
    child_in_need = models.BooleanField(default=False)
    communication_needs = models.TextField(max_length=2000, blank=True)
    key_safety_information = models.TextField(max_length=4000, blank=True)

    # The current risk picture, kept by dsr.risk's services in the same transaction as the
    # rating, review or event that changes it, so the register can filter and sort on it
    # without a query per row (ADR 0007). The history lives in dsr.risk.
    current_rating = models.CharField(max_length=1, blank=True, db_index=True)
    rated_on = models.DateField(null=True, blank=True)
    review_due = models.DateField(null=True, blank=True)
    review_now = models.BooleanField(default=False)

    # Where consent stands, kept by dsr.consent's services with the consent record that
    # changes it (ADR 0019): a withdrawn consent restricts who sees the person's details
    # (people/sharing.py), and re-confirmation falls due on `consent_reconfirm_by`.
    consent_state = models.CharField(
        max_length=10, choices=ConsentState.choices, blank=True, default=ConsentState.NOT_RECORDED
    )
    consent_reconfirm_by = models.DateField(null=True, blank=True)

    # On or off the register: closed, never deleted (DOMAIN.md "Leaving the register")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    closed_on = models.DateField(null=True, blank=True)
    closure_reason = models.CharField(max_length=24, choices=ClosureReason.choices, blank=True)
    closure_note = models.TextField(max_length=2000, blank=True)

    objects = PersonQuerySet.as_manager()  # type: ignore[misc]

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["nhs_number"],
                condition=Q(status="open") & ~Q(nhs_number=""),
                name="one_open_record_per_nhs_number",
            ),
            # Coded values hold only their codes, whoever writes them (ADR 0012).
            one_of("ethnicity", Ethnicity.choices, name="person_ethnicity_valid"),
            one_of("accommodation", Accommodation.choices, name="person_accommodation_valid"),
            one_of(
                "learning_disability",
                LearningDisability.choices,
                name="person_learning_disability_valid",
            ),
            one_of("autism", Autism.choices, name="person_autism_valid"),
            one_of(
                "education_attendance",
                Attendance.choices,
                blank=True,
                name="person_attendance_valid",
            ),
            one_of("ehc_plan", EHCPlan.choices, name="person_ehc_plan_valid"),
            one_of("current_rating", RATINGS, blank=True, name="person_rating_valid"),
            one_of("consent_state", ConsentState.choices, name="person_consent_state_valid"),
            one_of("status", Status.choices, name="person_status_valid"),
            one_of(
                "closure_reason", ClosureReason.choices, blank=True, name="person_closure_valid"
            ),
            models.CheckConstraint(
                condition=Q(nhs_number="") | Q(nhs_number__regex=r"^[0-9]{10}$"),
                name="person_nhs_number_ten_digits",
            ),
            # Open records carry no closure; closed ones carry a reason and a date, on or
            # after the date of birth.
            models.CheckConstraint(
                condition=(
                    Q(status="open", closed_on__isnull=True, closure_reason="")
                    | Q(
                        status="closed",
                        closed_on__isnull=False,
                        closed_on__gte=F("date_of_birth"),
                    )
                    & ~Q(closure_reason="")
                ),
                name="person_closure_consistent",
            ),
            models.CheckConstraint(
                condition=Q(review_due__isnull=True)
                | Q(rated_on__isnull=True)
                | Q(review_due__gte=F("rated_on")),
                name="person_review_after_rating",
            ),
        ]
        indexes = [
            models.Index(
                fields=["place", "status", "family_name", "given_name"], name="person_register_idx"
            ),
            models.Index(fields=["place", "date_of_birth"], name="person_dob_idx"),
            models.Index(fields=["place", "status", "review_due"], name="person_review_due_idx"),
            models.Index(
                fields=["place", "consent_reconfirm_by"],
                condition=Q(status="open"),
                name="person_consent_due_idx",
            ),
            models.Index(
                fields=["place", "status"],
                condition=Q(consent_state="withdrawn"),
                name="person_restricted_idx",
            ),
        ]
        triggers = undeletable_triggers("person")

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def is_open(self) -> bool:
        return self.status == Status.OPEN

    def age_on(self, day: date) -> int:
        return dates.age_on(self.date_of_birth, day)

    @property
    def age(self) -> int:
        return self.age_on(dates.today())

    @property
    def consent_withdrawn(self) -> bool:
        return self.consent_state == ConsentState.WITHDRAWN


class NetworkMemberQuerySet(CareQuerySet):
    def current(self) -> NetworkMemberQuerySet:
        return self.filter(ended_on__isnull=True)


class NetworkMember(Versioned):
    """Someone in the person's care network (DOMAIN.md: "who is involved in their care"):
    a professional (role, organisation, perhaps the lead professional), or family and
    carers (relationship, parental responsibility).

    A professional linked to a user of the register is how a partner comes to see the
    person (people/scoping.py). Ended, never deleted: the network's history is kept.
    """

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="network")
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(
        max_length=12, choices=MemberKind.choices, default=MemberKind.PROFESSIONAL
    )
    name = models.CharField(max_length=150)
    job_title = models.CharField("Role", max_length=150, blank=True)
    relationship = models.CharField(max_length=16, choices=Relationship.choices, blank=True)
    parental_responsibility = models.BooleanField(default=False)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    organisation = models.ForeignKey(
        "places.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="network_memberships",
    )
    is_lead = models.BooleanField("Lead professional", default=False)
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)

    objects = NetworkMemberQuerySet.as_manager()  # type: ignore[misc]

    class Meta:
        ordering = ["-is_lead", "name", "id"]
        indexes = [
            models.Index(
                fields=["user", "person"],
                condition=Q(ended_on__isnull=True),
                name="network_current_user_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="network_ends_after_start",
            ),
            one_of("kind", MemberKind.choices, name="network_kind_valid"),
            one_of("relationship", Relationship.choices, blank=True, name="network_relation_valid"),
            # Professionals have roles and may lead; family and carers have a relationship
            # and may hold parental responsibility. Only a professional uses the register.
            models.CheckConstraint(
                condition=Q(kind="professional", relationship="", parental_responsibility=False)
                | Q(kind="family", is_lead=False, user__isnull=True) & ~Q(relationship=""),
                name="network_kind_fields",
            ),
            # One lead professional at a time.
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(is_lead=True, ended_on__isnull=True),
                name="network_one_current_lead",
            ),
        ]
        triggers = [*undeletable_triggers("network"), place_follows_person("network_in_place")]

    def __str__(self) -> str:
        return self.name


class Circumstance(Immutable):
    """How the person is managing with health, education or social circumstances, as
    judged on a day: the current standing is the latest; the history is kept (DOMAIN.md)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="circumstances")
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    area = models.CharField(max_length=12, choices=CircumstanceArea.choices)
    standing = models.CharField(max_length=12, choices=Standing.choices)
    note = models.TextField(max_length=2000, blank=True)
    recorded_on = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by_label = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_on", "-id"]
        indexes = [
            models.Index(
                fields=["person", "area", "-recorded_on", "-id"], name="circumstance_person_idx"
            )
        ]
        constraints = [
            one_of("area", CircumstanceArea.choices, name="circumstance_area_valid"),
            one_of("standing", Standing.choices, name="circumstance_standing_valid"),
        ]
        triggers = [
            *immutable_triggers("circumstance"),
            place_follows_person("circumstance_in_place"),
        ]

    def __str__(self) -> str:
        return f"{self.get_area_display()}: {self.get_standing_display()} on {self.recorded_on}"
