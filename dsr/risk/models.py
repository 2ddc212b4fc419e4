"""Risk: dated ratings with history, reviews, significant events and early-warning signals.

DOMAIN.md "Risk rating (RAG + Blue)". Ratings are decisions: never overwritten or deleted.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from dsr.core.compiled import ShapedQuerySet
from dsr.core.models import (
    CareQuerySet,
    Immutable,
    immutable_triggers,
    one_of,
    refuse,
    undeletable_triggers,
)
from dsr.people.models import place_follows_person


class RiskRating(models.TextChoices):
    RED = "R", "Red"
    AMBER = "A", "Amber"
    GREEN = "G", "Green"
    BLUE = "B", "Blue"


RATING_MEANING = {
    RiskRating.RED: "Immediate risk of admission; in crisis, not manageable in the community",
    RiskRating.AMBER: "Immediate risk of admission without urgent intervention",
    RiskRating.GREEN: "Some risks, currently managed well in the community",
    RiskRating.BLUE: "Currently an inpatient in a mental-health hospital",
}


class RatingContext(models.TextChoices):
    INITIAL = "initial", "Added to the register"
    REVIEW = "review", "Review"
    TRACKER_MEETING = "tracker_meeting", "Tracker meeting"
    CETR = "cetr", "C(E)TR"
    ADMISSION = "admission", "Admission"
    DISCHARGE = "discharge", "Discharge"
    OTHER = "other", "Other"


# DOMAIN.md "Risk rating": factors seen in local tools, seeded per place as a checklist.
DEFAULT_RISK_FACTORS = [
    "Untreated or unstable mental-health condition",
    "Significant behaviour that challenges",
    "Unstable environment or changing staff team",
    "A&E attendance in crisis in the last month",
    "Police or youth-justice involvement",
    "Placement (home, foster, residential school) at risk of breakdown",
    "Crisis-team involvement in the last year",
    "Recent discharge from hospital",
    "Significant life events",
    "Transition to adult services",
    "All community options exhausted",
]


class RiskFactor(models.Model):
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="risk_factors")
    label = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    objects = ShapedQuerySet.as_manager()

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.label


class Rating(Immutable):
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="ratings")
    rating = models.CharField(max_length=1, choices=RiskRating.choices)
    decided_on = models.DateField()
    rationale = models.TextField(max_length=4000)
    factors = models.ManyToManyField(
        RiskFactor, blank=True, related_name="+", through="RatingFactor"
    )
    context = models.CharField(max_length=20, choices=RatingContext.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by_label = models.CharField(max_length=254, blank=True)
    review_due = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_on", "-id"]
        indexes = [models.Index(fields=["person", "-decided_on", "-id"], name="rating_person_idx")]
        constraints = [
            one_of("rating", RiskRating.choices, name="rating_rating_valid"),
            one_of("context", RatingContext.choices, name="rating_context_valid"),
            models.CheckConstraint(
                condition=Q(review_due__gte=F("decided_on")), name="rating_review_after_decision"
            ),
        ]
        triggers = immutable_triggers("rating")

    def __str__(self) -> str:
        return f"{self.get_rating_display()} on {self.decided_on}"


class RatingFactor(Immutable):
    """A risk factor that informed a rating: part of the decision, never changed."""

    rating = models.ForeignKey(Rating, on_delete=models.PROTECT)
    riskfactor = models.ForeignKey(RiskFactor, on_delete=models.PROTECT)

    class Meta:
        db_table = "risk_rating_factors"  # the table Django made for the plain many-to-many
        unique_together = [("rating", "riskfactor")]  # as Django made it, too
        triggers = immutable_triggers("rating_factor")


class Review(Immutable):
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="reviews")
    held_on = models.DateField()
    participants = models.TextField(max_length=2000)
    summary = models.TextField(max_length=8000)
    rating = models.OneToOneField(Rating, on_delete=models.PROTECT, related_name="review")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-id"]
        triggers = immutable_triggers("review")

    def __str__(self) -> str:
        return f"Review on {self.held_on}"


class EventKind(models.TextChoices):
    AE_ATTENDANCE = "ae", "A&E attendance"
    POLICE = "police", "Police or youth-justice contact"
    PLACEMENT_AT_RISK = "placement_at_risk", "Placement at risk"
    PLACEMENT_BROKEN = "placement_broken", "Placement broken down"
    SCHOOL_EXCLUSION = "exclusion", "School exclusion or non-attendance"
    CRISIS_TEAM = "crisis_team", "Crisis-team contact"
    CARER_BREAKDOWN = "carer_breakdown", "Carer breakdown"
    MEDICATION_CHANGE = "medication", "Medication change"
    OTHER = "other", "Other"


# The events that count as a crisis for the "crisis while Green" rule.
CRISIS_EVENTS = frozenset(
    {
        EventKind.AE_ATTENDANCE,
        EventKind.POLICE,
        EventKind.PLACEMENT_BROKEN,
        EventKind.CRISIS_TEAM,
        EventKind.CARER_BREAKDOWN,
    }
)


class SignificantEvent(Immutable):
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    occurred_on = models.DateField()
    description = models.TextField(max_length=2000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by_label = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_on", "-id"]
        indexes = [models.Index(fields=["person", "-occurred_on"], name="event_person_idx")]
        constraints = [one_of("kind", EventKind.choices, name="event_kind_valid")]
        triggers = immutable_triggers("event")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.occurred_on}"


class SignalQuerySet(CareQuerySet):
    def open(self) -> SignalQuerySet:
        return self.filter(cleared_by__isnull=True)


class Signal(models.Model):
    """An early-warning flag: a rule fired on the person's events. Cleared by a rating.

    Written once, then changed once, when a rating clears it; a cleared signal never
    changes again, and no signal is deleted (ADR 0012).
    """

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="signals")
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    rule = models.CharField(max_length=40)
    fired_on = models.DateField()
    explanation = models.TextField(max_length=2000)
    cleared_by = models.ForeignKey(
        Rating, null=True, blank=True, on_delete=models.PROTECT, related_name="cleared_signals"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SignalQuerySet.as_manager()

    class Meta:
        ordering = ["-fired_on", "-id"]
        indexes = [models.Index(fields=["place", "cleared_by"], name="signal_open_idx")]
        triggers = [
            *undeletable_triggers("signal"),
            place_follows_person("signal_in_place"),
            refuse(
                "signal_cleared_is_final",
                pgtrigger.Update,
                condition=pgtrigger.Q(old__cleared_by__isnull=False),
            ),
            refuse(
                "signal_only_clears",
                pgtrigger.Update,
                condition=pgtrigger.AnyChange(exclude=["cleared_by"]),
            ),
        ]

    def __str__(self) -> str:
        return self.explanation

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise TypeError("Signals are care data and are never deleted")

    @property
    def is_open(self) -> bool:
        return self.cleared_by_id is None
