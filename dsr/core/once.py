"""A form that creates something does it once, however often it is sent (ADR 0043).

Its page carries a one-time token (`core.forms.OnceField`). The view runs the service inside
`once(form)`: the token is taken in the same transaction as what the service writes, so a
second send of the same page (a double click, a browser's resend after a slow response)
finds it taken and writes nothing, and is told so. A refused save (bad input) rolls the token
back with everything else: the corrected form, sent with the same token, is the first. On
PostgreSQL a second send racing the first waits at the token's unique index until the first
commits. Found by a review: an event logged twice raised a false "review now".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django import forms
from django.db import IntegrityError, transaction
from django.utils import timezone

from dsr.core.models import Submission

SENT_ALREADY = "This was saved already: the form was sent twice"
KEPT_DAYS = 7  # a page left open longer than this and sent again is taken as new


@contextmanager
def once(form: forms.BaseForm) -> Iterator[bool]:
    """Yields True for the first send of the form's page (do what it asks, in this block's
    transaction), False for a second send (do nothing). A form without a token (a page from
    before tokens, or a caller that is not a page) is always a first send."""
    token = form.cleaned_data.get("once") or ""
    if not token:
        yield True
        return
    with transaction.atomic():
        try:
            with transaction.atomic():
                Submission.objects.create(token=token)
        except IntegrityError:
            first = False
        else:
            first = True
        yield first


def forget_old() -> int:
    """Tokens older than KEPT_DAYS (housekeeping)."""
    before = timezone.now() - timedelta(days=KEPT_DAYS)
    deleted, _ = Submission.objects.filter(at__lt=before).delete()
    return int(deleted)
