"""Database sessions that carry their user's id (Django's documented extension of the
database backend), so that `end_sessions` can end every session of an account at once.
Sessions live in the database, so any app server serves any session (docs/deploy.md)."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import auth
from django.contrib.sessions.backends.db import SessionStore as DBStore


class SessionStore(DBStore):
    @classmethod
    def get_model_class(cls) -> Any:
        # By name: the model names this store as its own, so neither imports the other.
        return apps.get_model("accounts", "UserSession")

    def create_model_instance(self, data: dict[str, Any]) -> Any:
        instance: Any = super().create_model_instance(data)
        user_id = data.get(auth.SESSION_KEY)
        try:
            instance.user_id = int(user_id) if user_id is not None else None
        except (TypeError, ValueError):
            instance.user_id = None
        return instance


def end_sessions(user_id: int) -> int:
    """End every session of the user now; returns how many there were."""
    model = SessionStore.get_model_class()
    deleted, _ = model.objects.filter(user_id=user_id).delete()
    return int(deleted)
