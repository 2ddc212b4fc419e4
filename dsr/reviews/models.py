"""C(E)TRs: Care (Education) and Treatment Reviews, and the local area emergency protocol
meeting (DOMAIN.md "C(E)TRs").

A C(E)TR moves requested -> scheduled -> held -> report issued, or is cancelled with a
reason. Consent for this review (or a best-interests decision) is recorded on the review
itself before it is held. Its recommendations are shared actions (dsr.actions), each linked
here. Never deleted.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from dsr.core.models import (
    CareQuerySet,
    Immutable,
    Versioned,
    immutable_triggers,
    one_of,
    undeletable_triggers,
)
from dsr.people.models import place_follows_person


class CetrKind(models.TextChoices):
    COMMUNITY = "community", "Community C(E)TR"
    # The values hospital's NextCetr uses for what an inpatient is due next.
    POST_ADMISSION = "post_admission", "Post-admission C(E)TR"
    INPATIENT = "inpatient", "Inpatient C(E)TR (repeat)"
    LAEP = "laep", "Local area emergency protocol (LAEP) meeting"


# DOMAIN.md: a LAEP meeting is recorded, but it does not count as a C(E)TR.
COUNTED_KINDS = frozenset({CetrKind.COMMUNITY, CetrKind.POST_ADMISSION, CetrKind.INPATIENT})
IN_HOSPITAL_KINDS = frozenset({CetrKind.POST_ADMISSION, CetrKind.INPATIENT})


class ReviewType(models.TextChoices):
    """CETR (with the education element) or CTR, chosen from age and EHC plan."""

    CETR = "cetr", "CETR"
    CTR = "ctr", "CTR"


class CetrStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    SCHEDULED = "scheduled", "Scheduled"
    HELD = "held", "Held"
    REPORT_ISSUED = "report_issued", "Report issued"
    CANCELLED = "cancelled", "Cancelled"


LIVE = frozenset({CetrStatus.REQUESTED, CetrStatus.SCHEDULED})  # still to be held
HELD = frozenset({CetrStatus.HELD, CetrStatus.REPORT_ISSUED})


class ConsentBasis(models.TextChoices):
    """DOMAIN.md "Consent": who may consent, or a recorded best-interests decision."""

    YOUNG_PERSON = "young_person", "The young person consented"
    PARENTAL_RESPONSIBILITY = (
        "parental_responsibility",
        "A person with parental responsibility consented",
    )
    BEST_INTERESTS = "best_interests", "A best-interests decision was made"


class CetrQuerySet(CareQuerySet):
    def live(self) -> CetrQuerySet:
        return self.filter(status__in=LIVE)


class Cetr(Versioned):
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="cetrs")
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField("What kind", max_length=16, choices=CetrKind.choices)
    review_type = models.CharField(
        "CETR or CTR", max_length=4, choices=ReviewType.choices, blank=True
    )
    status = models.CharField(
        max_length=16, choices=CetrStatus.choices, default=CetrStatus.REQUESTED
    )
    # The stay a post-admission or inpatient C(E)TR reviews.
    admission = models.ForeignKey(
        "hospital.Admission",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cetrs",
    )
    # The task a Red rating opened, which holding this community C(E)TR completes: a real
    # link, not a rule key to search by.
    task = models.ForeignKey(
        "actions.Action", null=True, blank=True, on_delete=models.PROTECT, related_name="cetrs"
    )
    reason = models.TextField("Why it is needed", max_length=2000, blank=True)
    requested_on = models.DateField("Date requested")
    scheduled_for = models.DateField("Date of the review", null=True, blank=True)

    # The panel and who else attended (DOMAIN.md: a chair, an independent clinical expert,
    # an independent expert by experience, and others as needed).
    chair = models.CharField("Chair", max_length=150, blank=True)
    clinical_expert = models.CharField("Clinical expert", max_length=150, blank=True)
    expert_by_experience = models.CharField("Expert by experience", max_length=150, blank=True)
    other_panel = models.TextField("Other panel members", max_length=2000, blank=True)
    attendees = models.TextField("Attendees", max_length=4000, blank=True)

    # Consent for this review, or a best-interests decision, with its date.
    consent_basis = models.CharField(
        "Consent", max_length=24, choices=ConsentBasis.choices, blank=True
    )
    consent_given_by = models.CharField(
        "Who consented, or who made the decision", max_length=150, blank=True
    )
    consent_on = models.DateField("Date of consent or decision", null=True, blank=True)

    held_on = models.DateField("Date held", null=True, blank=True)
    summary = models.TextField("Outcome", max_length=8000, blank=True)
    report_due = models.DateField(null=True, blank=True)
    report_issued_on = models.DateField("Date the report was issued", null=True, blank=True)
    cancelled_on = models.DateField(null=True, blank=True)
    cancel_reason = models.TextField("Why it was cancelled", max_length=2000, blank=True)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = CetrQuerySet.as_manager()  # type: ignore[misc]

    class Meta:
        ordering = ["-requested_on", "-id"]
        verbose_name = "C(E)TR"
        indexes = [
            models.Index(fields=["person", "-requested_on"], name="cetr_person_idx"),
            models.Index(
                fields=["place", "report_due"],
                condition=Q(status="held"),
                name="cetr_report_due_idx",
            ),
            models.Index(
                fields=["place", "scheduled_for"],
                condition=Q(status__in=["requested", "scheduled"]),
                name="cetr_live_idx",
            ),
        ]
        constraints = [
            one_of("kind", CetrKind.choices, name="cetr_kind_valid"),
            one_of("status", CetrStatus.choices, name="cetr_status_valid"),
            one_of("consent_basis", ConsentBasis.choices, blank=True, name="cetr_consent_valid"),
            # A LAEP meeting is neither a CETR nor a CTR; every C(E)TR is one of them.
            models.CheckConstraint(
                condition=Q(kind="laep", review_type="")
                | (~Q(kind="laep") & Q(review_type__in=ReviewType.values)),
                name="cetr_review_type_valid",
            ),
            # Reviews of a stay name it; others do not. Only a community C(E)TR completes a
            # Red rating's task.
            models.CheckConstraint(
                condition=Q(kind__in=["post_admission", "inpatient"], admission__isnull=False)
                | (~Q(kind__in=["post_admission", "inpatient"]) & Q(admission__isnull=True)),
                name="cetr_admission_by_kind",
            ),
            models.CheckConstraint(
                condition=Q(task__isnull=True) | Q(kind="community"),
                name="cetr_task_only_community",
            ),
            # One C(E)TR at a time completes a task (a cancelled one lets go of it).
            models.UniqueConstraint(
                fields=["task"],
                condition=~Q(status="cancelled") & Q(task__isnull=False),
                name="one_live_cetr_per_task",
            ),
            # The lifecycle, as the services keep it.
            models.CheckConstraint(
                condition=(
                    Q(status="requested", held_on__isnull=True, cancelled_on__isnull=True)
                    | Q(
                        status="scheduled",
                        scheduled_for__isnull=False,
                        held_on__isnull=True,
                        cancelled_on__isnull=True,
                    )
                    # A LAEP meeting owes no report: it is not a C(E)TR.
                    | (
                        Q(status="held", held_on__isnull=False, report_issued_on__isnull=True)
                        & (Q(report_due__isnull=False) | Q(kind="laep"))
                    )
                    | Q(
                        status="report_issued",
                        held_on__isnull=False,
                        report_issued_on__isnull=False,
                        report_issued_on__gte=F("held_on"),
                    )
                    | (
                        Q(status="cancelled", held_on__isnull=True, cancelled_on__isnull=False)
                        & ~Q(cancel_reason="")
                    )
                ),
                name="cetr_lifecycle",
            ),
            models.CheckConstraint(
                condition=Q(held_on__isnull=True) | Q(held_on__gte=F("requested_on")),
                name="cetr_held_after_request",
            ),
            # Consent (or a best-interests decision) before any C(E)TR is held.
            models.CheckConstraint(
                condition=Q(held_on__isnull=True)
                | Q(kind="laep")
                | (
                    ~Q(consent_basis="") & Q(consent_on__isnull=False, consent_on__lte=F("held_on"))
                ),
                name="cetr_held_with_consent",
            ),
        ]
        triggers = [*undeletable_triggers("cetr"), place_follows_person("cetr_in_place")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display().lower()})"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE

    @property
    def is_held(self) -> bool:
        return self.status in HELD

    @property
    def counts(self) -> bool:
        """Whether it counts as a C(E)TR (a LAEP meeting never does)."""
        return self.kind in COUNTED_KINDS

    @property
    def title(self) -> str:
        if self.kind == CetrKind.LAEP:
            return self.get_kind_display()
        return self.get_kind_display().replace("C(E)TR", self.get_review_type_display())

    @property
    def when(self) -> date:
        """The day that matters now: held, booked, or asked for."""
        return self.held_on or self.scheduled_for or self.requested_on


class Recommendation(Immutable):
    """A C(E)TR's recommendation: the shared action (owner, due date, status) it became,
    always opened with the source C(E)TR (schedule.overdue_recommendations relies on it)."""

    cetr = models.ForeignKey(Cetr, on_delete=models.PROTECT, related_name="recommendations")
    action = models.OneToOneField(
        "actions.Action", on_delete=models.PROTECT, related_name="recommendation"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        triggers = immutable_triggers("recommendation")

    def __str__(self) -> str:
        return f"Recommendation {self.pk} of C(E)TR {self.cetr_id}"
