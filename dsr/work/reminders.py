"""Daily reminder digests: newly due and overdue work, at most once a day per user and place.
They carry no names: only what kind of work is waiting, and a link to it.

Safe to run every few minutes from any scheduler: each (user, place, item, state) is
reminded once, and a user gets at most one digest a day for each place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from dsr.core import audit, dates, outbox
from dsr.core.door import Viewer
from dsr.core.models import AuditAction
from dsr.core.routing import absolute
from dsr.places.models import Membership
from dsr.work.models import Reminder
from dsr.work.registry import WorkItem, work_for

JOB = "reminder job"


@dataclass(frozen=True)
class Digest:
    membership: Membership
    items: list[tuple[str, WorkItem]]  # (state, item)
    kinds: dict[str, str] = field(default_factory=dict)  # item key -> its list's title


def _state(item: WorkItem) -> str:
    return "overdue" if item.overdue else "due"


def pending_digest(membership: Membership) -> Digest | None:
    today = dates.today()
    if Reminder.objects.filter(
        user=membership.user, place=membership.place, sent_on=today
    ).exists():
        return None
    # Read for the user, and named so: each person's "who has accessed this record" says
    # whose digest the job read them for. One event for the run, and none when nothing new
    # is found to send: a job run every few minutes wrote one naming everyone on the
    # user's list each time, though nothing left the register (an IG review).
    viewer = Viewer.acting_for(membership, label=f"{JOB} for {membership.user.email}")
    with viewer.one_event("reminder digest"):
        kinds: dict[str, str] = {}
        due = []
        for provider, items in work_for(viewer):
            for item in items:
                if item.due_now:
                    due.append(item)
                    kinds[item.key] = provider.title
        already = set(
            Reminder.objects.filter(
                user=membership.user, place=membership.place, item_key__in=[i.key for i in due]
            ).values_list("item_key", "state")
        )
        fresh = [(_state(i), i) for i in due if (i.key, _state(i)) not in already]
        if not fresh:
            viewer.shown_nothing()
    return Digest(membership, fresh, kinds) if fresh else None


def _when(state: str, item: WorkItem) -> str:
    if state == "overdue":
        return f"overdue since {item.due_on:%-d %B %Y}"
    if item.due_on is not None and item.due_on > dates.today():
        return f"due by {item.due_on:%-d %B %Y}"
    return "due today" if item.due_on is not None else "new"


def _body(digest: Digest) -> str:
    """The digest names no one (DOMAIN.md, ADR 0019): mail leaves the register, so it says
    what kind of work is waiting and links to it; the names are behind the sign-in."""
    lines = [
        "Hello,",
        "",
        f"These items on the Dynamic Support Register for {digest.membership.place.name} "
        "are waiting for you:",
        "",
    ]
    for state, item in digest.items:
        kind = digest.kinds.get(item.key, "Work")
        lines.append(f"- {kind} ({_when(state, item)}): {absolute(item.url)}")
    lines += ["", "Sign in to see them under My work."]
    return "\n".join(lines)


def send_digest(digest: Digest) -> bool:
    """Record the reminders and queue the digest, in one transaction; a concurrent run that
    got there first wins. The mail is sent from the outbox after commit (ADR 0014)."""
    membership = digest.membership
    today = dates.today()
    try:
        with transaction.atomic():
            Reminder.objects.bulk_create(
                Reminder(
                    user=membership.user,
                    place=membership.place,
                    item_key=item.key,
                    state=state,
                    sent_on=today,
                )
                for state, item in digest.items
            )
            audit.record(
                context=audit.Context(actor=None, place_id=membership.place_id, actor_label=JOB),
                action=AuditAction.EMAILED,
                object_type="User",
                object_id=membership.user_id,
                changes={"items": [item.key for _, item in digest.items]},
                # whom the items are about, though the mail names no one: each person's
                # trail shows a digest went to this user about them (an IG review)
                shown=sorted({i.person_id for _, i in digest.items if i.person_id is not None}),
            )
            outbox.queue(
                to=membership.user.email,
                subject=f"DSR: {len(digest.items)} item(s) due – {membership.place.name}",
                body=_body(digest),
            )
    except IntegrityError:
        return False
    return True


def send_reminders() -> tuple[int, dict[str, int]]:
    """Queue each due digest, then send the outbox: how many digests were queued, and what
    became of the mail (`outbox.send_pending`)."""
    sent = 0
    memberships = Membership.objects.filter(is_active=True, user__is_active=True).select_related(
        "user", "place", "place__settings"
    )
    for membership in memberships:
        digest = pending_digest(membership)
        if digest is not None and send_digest(digest):
            sent += 1
    return sent, outbox.send_pending()
