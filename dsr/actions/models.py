"""One shared action model: reviews, meetings, C(E)TRs, keywork and rating rules all use it."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from dsr.core import dates
from dsr.core.models import (
    CareQuerySet,
    Immutable,
    Versioned,
    immutable_triggers,
    one_of,
    undeletable_triggers,
)
from dsr.people.models import place_follows_person


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    NOT_ACHIEVED = "not_achieved", "Not achieved"
    CANCELLED = "cancelled", "Cancelled"


class ActionSource(models.TextChoices):
    RATING = "rating", "Risk rating"
    REVIEW = "review", "Review"
    MEETING = "meeting", "Tracker meeting"
    CETR = "cetr", "C(E)TR"
    KEYWORK = "keywork", "Keywork"
    SIGNAL = "signal", "Early warning"
    OTHER = "other", "Other"


class ActionQuerySet(CareQuerySet):
    def open(self) -> ActionQuerySet:
        return self.filter(status=ActionStatus.OPEN)

    def overdue(self) -> ActionQuerySet:
        return self.open().filter(due_on__lt=dates.today())


class Action(Versioned):
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="actions")
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    description = models.CharField(max_length=300)
    # The owner: a user of the register, or a named professional or organisation.
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    owner_name = models.CharField("Owner (if not a user)", max_length=150, blank=True)
    owner_organisation = models.ForeignKey(
        "places.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField()
    status = models.CharField(
        max_length=16, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    source = models.CharField(max_length=16, choices=ActionSource.choices)
    source_ref = models.CharField(max_length=64, blank=True)
    # Set on actions a rule opened, so a rule never opens the same action twice.
    rule_key = models.CharField(max_length=40, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ActionQuerySet.as_manager()  # type: ignore[misc]

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["owner_user", "status", "due_on"], name="action_owner_idx"),
            models.Index(fields=["person", "status"], name="action_person_idx"),
            models.Index(fields=["place", "status", "due_on"], name="action_place_idx"),
            # "C(E)TRs due" and rule de-duplication look only at open actions of a rule.
            models.Index(
                fields=["place", "rule_key", "due_on"],
                condition=models.Q(status="open"),
                name="action_open_rule_idx",
            ),
        ]
        constraints = [
            one_of("status", ActionStatus.choices, name="action_status_valid"),
            one_of("source", ActionSource.choices, name="action_source_valid"),
            models.CheckConstraint(
                condition=~models.Q(
                    owner_user__isnull=True, owner_name="", owner_organisation__isnull=True
                ),
                name="action_has_owner",
            ),
        ]
        triggers = [*undeletable_triggers("action"), place_follows_person("action_in_place")]

    def __str__(self) -> str:
        return self.description

    @property
    def is_overdue(self) -> bool:
        return self.status == ActionStatus.OPEN and self.due_on < dates.today()

    @property
    def owner_label(self) -> str:
        if self.owner_user_id:
            return str(self.owner_user)
        if self.owner_organisation_id:
            org = str(self.owner_organisation)
            return f"{self.owner_name} ({org})" if self.owner_name else org
        return self.owner_name or "No owner"


class ActionUpdate(Immutable):
    """A dated change of status or a note; the action's history. Never changed."""

    action = models.ForeignKey(Action, on_delete=models.PROTECT, related_name="updates")
    on = models.DateField()
    status = models.CharField(max_length=16, choices=ActionStatus.choices)
    note = models.TextField(max_length=2000, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [one_of("status", ActionStatus.choices, name="action_update_status_valid")]
        triggers = immutable_triggers("action_update")

    def __str__(self) -> str:
        return f"{self.on}: {self.get_status_display()}"
