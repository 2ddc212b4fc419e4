"""The one way to write to the audit trail (DESIGN.md principle 5).

Call `record(...)` inside the service's `transaction.atomic()` block so the
event commits or rolls back with the change it describes. Events are appended to
their place's keyed hash chain (core/chain.py, ADR 0014); core/verify.py checks them.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from dsr.core import chain
from dsr.core.models import AuditAction, AuditEvent, AuditShown


@dataclass(frozen=True)
class Context:
    """Who is acting, where, and in which request: what every event carries."""

    actor: Any | None
    place_id: int | None
    request_id: str = ""
    actor_label: str = ""
    # The actor's role in `place_id`, for the services whose rules depend on it (an NHS
    # number is changed only by a role that adds people). None: the system itself.
    role: str | None = None

    @property
    def user_id(self) -> int | None:
        return getattr(self.actor, "pk", None)

    @classmethod
    def of(cls, request: HttpRequest) -> Context:
        user = request.user if request.user.is_authenticated else None
        place = getattr(request, "place", None)
        membership = getattr(request, "membership", None)
        return cls(
            actor=user,
            place_id=place.pk if place is not None else None,
            request_id=getattr(request, "request_id", ""),
            actor_label=user.email if user is not None else "",
            role=membership.role if membership is not None else None,
        )


def record(
    *,
    context: Context,
    action: AuditAction | str,
    obj: Any | None = None,
    object_type: str = "",
    object_id: Any = "",
    person_id: int | None = None,
    place_id: int | None = None,
    changes: dict[str, Any] | None = None,
    shown: list[int] | None = None,
) -> AuditEvent:
    """Append one event to its place's chain, inside the caller's transaction (ADR 0014).

    `place_id` defaults to the acting context's place; services pass the place
    of the record they touch so that system actions land in the right place too.
    `shown`: the people the event showed to its actor (a list, a search, a duplicate
    check), kept in its hashed content and as AuditShown rows, so that each person's "who
    has accessed this record" includes it.
    """
    if context.actor is None and not context.actor_label:
        raise ValueError("An audit event needs an actor or an actor label")
    if obj is not None:
        object_type = object_type or type(obj).__name__
        object_id = object_id or obj.pk
    event = AuditEvent(
        at=timezone.now(),
        actor=context.actor,
        actor_label=_storable(context.actor_label or getattr(context.actor, "email", "")),
        place_id=place_id if place_id is not None else context.place_id,
        action=str(action),
        object_type=_storable(object_type),
        object_id=_storable(str(object_id)) if object_id not in (None, "") else "",
        person_id=person_id,
        changes=_jsonable({**(changes or {}), **({"shown": shown} if shown is not None else {})}),
        request_id=_storable(context.request_id),
    )
    # No savepoint: the event belongs to the caller's transaction, all or nothing.
    chain.append([event], shown=shown)
    return event


def _on_its_own() -> Any:
    """For an event that is all there is to write (a read, a refusal): inside a caller's
    transaction, a savepoint of it, as before; outside one, nothing to open, so that on
    PostgreSQL the append is one statement (chain.append)."""
    return transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()


# PostgreSQL's text and jsonb cannot hold U+0000: an event whose details carried one (a
# provider's error code in a sign-in callback's query string, say) failed to write, and the
# refusal it recorded went unaudited. The trail keeps the replacement character in its place.
NUL = "\x00"
NOT_STORABLE = "\ufffd"


def _storable(text: str) -> str:
    return text.replace(NUL, NOT_STORABLE) if NUL in text else text


def _jsonable(value: Any) -> Any:
    """The value as it will read back from the trail's JSON (dates and the like as text,
    NUL as the replacement character), so that the hash signed now is the hash verify_audit
    computes later."""
    if _plain(value):  # most events' details: a few strings and numbers, as they are
        return value
    return _stored(json.loads(json.dumps(value, default=str)))


def _stored(value: Any) -> Any:
    """JSON's value with every text storable (keys included)."""
    if type(value) is str:
        return _storable(value)
    if type(value) is list:
        return [_stored(item) for item in value]
    if type(value) is dict:
        return {_storable(key): _stored(item) for key, item in value.items()}
    return value


def _plain(value: Any) -> bool:
    """Whether JSON would give the value back as it is (no tuples, no keys but text) and
    PostgreSQL can store it (no NUL)."""
    kind = type(value)
    if kind is str:
        return NUL not in value
    if value is None or kind in (int, bool):
        return True
    if kind is list:
        return all(_plain(item) for item in value)
    if kind is dict:
        return all(
            type(key) is str and NUL not in key and _plain(item) for key, item in value.items()
        )
    return False


def record_read(
    *,
    context: Context,
    page: str,
    obj: Any | None,
    person_id: int | None,
    place_id: int | None,
) -> AuditEvent:
    """A record (or, with no `obj`, what a page showed about a person) was read for a
    purpose: an event on its own (one statement on PostgreSQL). Called by the door
    (core/door.py), never by a view.
    """
    with _on_its_own():
        return record(
            context=context,
            action=AuditAction.VIEWED,
            obj=obj,
            object_type="" if obj is not None else "Person",
            object_id="" if obj is not None else person_id,
            person_id=person_id,
            place_id=place_id,
            changes={"page": page},
        )


def record_listed(
    *,
    context: Context,
    page: str,
    object_type: str,
    person_ids: list[int],
    place_id: int | None,
    terms: dict[str, Any] | None = None,
    records: list[Any] | None = None,
    exported: bool = False,
) -> AuditEvent:
    """A list showed these people (a register page, My work): one event, `listed`; or, when
    someone typed a search, `searched`, with what they typed — even if it found no one.
    `records`: the records shown, for lists of records not all about a person yet.
    `exported`: they went into a file downloaded (a meeting pack): one event, `exported`."""
    if exported:
        action = AuditAction.EXPORTED
    else:
        action = AuditAction.SEARCHED if (terms or {}).get("q") else AuditAction.LISTED
    with _on_its_own():
        return record(
            context=context,
            action=action,
            object_type=object_type,
            place_id=place_id,
            changes={
                "page": page,
                **({"terms": terms} if terms else {}),
                **({"records": records} if records is not None else {}),
            },
            shown=person_ids,
        )


def record_denied(
    *,
    request: HttpRequest,
    reason: str,
    person_id: int | None = None,
    place_id: int | None = None,
) -> None:
    """A refused attempt: its own transaction, so the refusal itself is kept.

    `place_id` is the place the refused record (or requested place) belongs to, so that
    place's auditors see the attempt; it defaults to the place the user was working in.
    """
    if not request.user.is_authenticated:
        return
    with _on_its_own():
        record(
            context=Context.of(request),
            action=AuditAction.DENIED,
            object_type="Person" if person_id else "",
            object_id=person_id or "",
            person_id=person_id,
            place_id=place_id,
            changes={"path": request.path, "method": request.method, "reason": reason},
        )


def record_refused(
    *,
    context: Context,
    place_id: int | None,
    what: str,
    reason: str,
    fields: list[str] | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Bad input or a stale form that a service (or its page) refused: its own transaction,
    so the refusal is kept though nothing else is written. Never the values refused (they
    may be secrets or care data): what was refused, why, and which fields."""
    with _on_its_own():
        record(
            context=context,
            action=AuditAction.REFUSED,
            object_type=what[:64],
            place_id=place_id,
            changes={"reason": reason, **({"fields": fields} if fields else {}), **(details or {})},
        )


def record_audit_search(*, context: Context, terms: dict[str, Any]) -> None:
    """An auditor searched the trail: reading the trail is itself audited."""
    with _on_its_own():
        record(
            context=context,
            action=AuditAction.SEARCHED,
            object_type="AuditEvent",
            changes={"terms": terms},
        )


def about(person_id: int) -> Q:
    """Events about a person: their own pages and changes, and every list that showed them
    (AuditShown). A union of two index scans: `person_id = … OR id IN (…)` would read the
    whole trail (29 s at 2.7 million events, `make bench`'s data)."""
    own = AuditEvent.objects.filter(person_id=person_id).order_by().values("id")
    shown = AuditShown.objects.filter(person_id=person_id).order_by().values("event_id")
    return Q(pk__in=own.union(shown))


def events_about(person_id: int) -> Any:
    """Every event about a person, newest first."""
    return AuditEvent.objects.filter(about(person_id)).order_by("-id")
