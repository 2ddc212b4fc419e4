"""Keywork (DOMAIN.md "Keyworker"): who is the family's keyworker, since when, and every
contact they have with the family. A keyworker is not a caseholder: at least one other
professional is in the care network while they are allocated (keywork/services.py)."""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from dsr.core.models import (
    CareQuerySet,
    Immutable,
    Versioned,
    immutable_triggers,
    one_of,
    refuse,
    undeletable_triggers,
)
from dsr.people.models import place_follows_person


class AllocationQuerySet(CareQuerySet):
    def current(self) -> AllocationQuerySet:
        return self.filter(ended_on__isnull=True)


class Allocation(Versioned):
    """A keyworker allocated to a person from a day, until it ends (reallocated, no longer
    eligible, left the register...). Written once, ended once, never deleted: the history of
    who was the family's keyworker is kept."""

    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="allocations"
    )
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    keyworker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="allocations"
    )
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=200, blank=True)
    allocated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    allocated_by_label = models.CharField(max_length=254, blank=True)

    objects = AllocationQuerySet.as_manager()  # type: ignore[misc]

    class Meta:
        ordering = ["-started_on", "-id"]
        indexes = [
            models.Index(
                fields=["place", "keyworker"],
                condition=Q(ended_on__isnull=True),
                name="allocation_caseload_idx",
            ),
            models.Index(fields=["person", "-started_on"], name="allocation_person_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["person"],
                condition=Q(ended_on__isnull=True),
                name="allocation_one_current_per_person",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="allocation_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True, end_reason="")
                | Q(ended_on__isnull=False) & ~Q(end_reason=""),
                name="allocation_end_has_reason",
            ),
        ]
        triggers = [
            *undeletable_triggers("allocation"),
            place_follows_person("allocation_in_place"),
            refuse(
                "allocation_ended_is_final",
                pgtrigger.Update,
                condition=pgtrigger.Q(old__ended_on__isnull=False),
            ),
            refuse(
                "allocation_only_ends",
                pgtrigger.Update,
                condition=pgtrigger.AnyChange(
                    exclude=["ended_on", "end_reason", "version", "updated_at"]
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.keyworker} from {self.started_on}"

    @property
    def is_current(self) -> bool:
        return self.ended_on is None


class ContactKind(models.TextChoices):
    VISIT = "visit", "Visit"
    PHONE = "phone", "Phone call"
    VIDEO = "video", "Video call"
    MEETING = "meeting", "Meeting"
    EMAIL = "email", "Email"
    LETTER = "letter", "Letter"


class Contact(Immutable):
    """A keyworker's contact with the family or those around them: when, how, with whom,
    what was said. Follow-ups agreed become shared actions (source "keywork")."""

    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="contacts")
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    contacted_on = models.DateField()
    kind = models.CharField(max_length=10, choices=ContactKind.choices)
    with_whom = models.CharField(max_length=200)
    summary = models.TextField(max_length=4000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by_label = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-contacted_on", "-id"]
        indexes = [models.Index(fields=["person", "-contacted_on"], name="contact_person_idx")]
        constraints = [one_of("kind", ContactKind.choices, name="contact_kind_valid")]
        triggers = [*immutable_triggers("contact"), place_follows_person("contact_in_place")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.contacted_on}"
