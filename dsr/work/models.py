from __future__ import annotations

from django.conf import settings
from django.db import models


class Reminder(models.Model):
    """That a user was reminded of a work item in a given state: never twice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    item_key = models.CharField(max_length=80)
    state = models.CharField(max_length=10)  # "due" (today) or "overdue"
    sent_on = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "place", "item_key", "state"], name="one_reminder_per_item_state"
            )
        ]
        indexes = [models.Index(fields=["user", "sent_on"], name="reminder_user_day_idx")]

    def __str__(self) -> str:
        return f"{self.user} {self.item_key} {self.state}"
