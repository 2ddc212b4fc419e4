"""The monthly multi-agency tracker meeting (DOMAIN.md "Monthly multi-agency tracker meeting").

A meeting is prepared (its agenda built from the register, added to and pruned by the
coordinator), started (the agenda is frozen), run person by person (notes, the rating
confirmed or changed, actions, the next review date) and finished (its minutes). Nothing
is deleted: an item taken off the agenda keeps its reason, an attendee who did not come is
marked so.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from dsr.core.models import Immutable, Versioned, immutable_triggers, one_of, undeletable_triggers


class MeetingStatus(models.TextChoices):
    PREPARING = "preparing", "Being prepared"
    IN_PROGRESS = "in_progress", "In progress"
    FINISHED = "finished", "Finished"


class Meeting(Versioned):
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="meetings")
    held_on = models.DateField("Date of the meeting")
    venue = models.CharField("Where", max_length=200, blank=True)
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    minute_taker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=MeetingStatus.choices, default=MeetingStatus.PREPARING
    )
    # The meeting before, whose decisions and open actions open this one's agenda; and the
    # day after which "since the last meeting" counts.
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    since = models.DateField()
    agenda_built_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-held_on", "-id"]
        constraints = [
            one_of("status", MeetingStatus.choices, name="meeting_status_valid"),
            models.UniqueConstraint(fields=["place", "held_on"], name="one_meeting_a_day"),
            models.CheckConstraint(
                condition=Q(since__lt=models.F("held_on")), name="meeting_since"
            ),
            models.CheckConstraint(
                condition=Q(status="preparing", started_at__isnull=True)
                | Q(status="in_progress", started_at__isnull=False, finished_at__isnull=True)
                | Q(status="finished", started_at__isnull=False, finished_at__isnull=False),
                name="meeting_lifecycle",
            ),
        ]
        triggers = undeletable_triggers("meeting")

    def __str__(self) -> str:
        return f"Tracker meeting on {self.held_on:%-d %B %Y}"

    @property
    def is_frozen(self) -> bool:
        """The agenda is fixed once the meeting has started."""
        return self.status != MeetingStatus.PREPARING


class Attendee(Versioned):
    """Someone invited: a user of the register, or a named person from an organisation."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="attendees")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField("Name", max_length=150, blank=True)
    organisation = models.ForeignKey(
        "places.Organisation", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    job_title = models.CharField("Role", max_length=150, blank=True)
    # Marked when they were invited but did not come (or were added by mistake): kept.
    absent = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(name=""), name="attendee_named"
            ),
            models.UniqueConstraint(
                fields=["meeting", "user"], condition=Q(user__isnull=False), name="attend_once"
            ),
        ]
        triggers = undeletable_triggers("attendee")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        who = str(self.user) if self.user_id else self.name
        where = str(self.organisation) if self.organisation_id else ""
        return ", ".join(part for part in (who, self.job_title, where) if part)


class Outcome(models.TextChoices):
    CONFIRMED = "confirmed", "Rating confirmed"
    CHANGED = "changed", "Rating changed"


class AgendaItem(Versioned):
    """One person (or one referral not yet on the register) on a meeting's agenda, with the
    reasons it is there and, once discussed, what the meeting decided."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="items")
    person = models.ForeignKey(
        "people.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    referral = models.ForeignKey(
        "referrals.Referral", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveIntegerField(default=0)
    # [{"code": ..., "text": ...}]: the rules (meetings/agenda.py) that put it here.
    reasons = models.JSONField(default=list, blank=True)
    # Added by a coordinator (with why), rather than by a rule.
    added_reason = models.TextField("Why it is added", max_length=2000, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Taken off the agenda: by a coordinator (with why), or because no rule holds any more.
    removed = models.BooleanField(default=False)
    removed_reason = models.TextField("Why it is taken off", max_length=2000, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Taken off when the agenda was rebuilt (no rule holds): put back if one holds again.
    removed_by_rule = models.BooleanField(default=False)

    # What the meeting decided
    notes = models.TextField("Discussion", max_length=8000, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, blank=True)
    rating = models.ForeignKey(
        "risk.Rating", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    next_review_on = models.DateField("Next review", null=True, blank=True)
    discussed_at = models.DateTimeField(null=True, blank=True)
    discussed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["person", "meeting"], name="agenda_person_idx")]
        constraints = [
            one_of("outcome", Outcome.choices, blank=True, name="agenda_outcome_valid"),
            models.CheckConstraint(
                condition=Q(person__isnull=False, referral__isnull=True)
                | Q(person__isnull=True, referral__isnull=False),
                name="agenda_person_or_referral",
            ),
            models.UniqueConstraint(
                fields=["meeting", "person"], condition=Q(person__isnull=False), name="agenda_once"
            ),
            models.UniqueConstraint(
                fields=["meeting", "referral"],
                condition=Q(referral__isnull=False),
                name="agenda_referral_once",
            ),
            # A decision is a rating (through the risk service) and a next review date.
            models.CheckConstraint(
                condition=Q(outcome="", rating__isnull=True, discussed_at__isnull=True)
                | (
                    ~Q(outcome="")
                    & Q(
                        rating__isnull=False,
                        next_review_on__isnull=False,
                        discussed_at__isnull=False,
                    )
                )
                | Q(outcome="", referral__isnull=False, discussed_at__isnull=False),
                name="agenda_decision_whole",
            ),
            models.CheckConstraint(
                condition=Q(removed=False) | ~Q(removed_reason=""), name="agenda_removed_why"
            ),
        ]
        triggers = undeletable_triggers("agenda_item")

    def __str__(self) -> str:
        return f"Agenda item {self.pk} of meeting {self.meeting_id}"

    @property
    def is_discussed(self) -> bool:
        return self.discussed_at is not None


class MeetingAction(Immutable):
    """An action the meeting agreed about an item's person: the shared action it became."""

    item = models.ForeignKey(AgendaItem, on_delete=models.PROTECT, related_name="agreed")
    action = models.OneToOneField(
        "actions.Action", on_delete=models.PROTECT, related_name="meeting_link"
    )

    class Meta:
        ordering = ["id"]
        triggers = immutable_triggers("meeting_action")

    def __str__(self) -> str:
        return f"Action {self.action_id} agreed at item {self.item_id}"
