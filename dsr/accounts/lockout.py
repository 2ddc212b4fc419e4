"""How django-axes names the account being tried: the email, case-folded."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def username_from(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    if credentials and credentials.get("username"):
        return str(credentials["username"]).strip().lower()
    return str(request.POST.get("email", "")).strip().lower()
