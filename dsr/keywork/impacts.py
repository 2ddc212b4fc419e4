"""What changing keywork's setting affects (places/impact.py): a contact is overdue when the
last one (or the allocation, before any) is older than the interval, worked out whenever a
caseload or My work is shown, so a change shows at once; nothing stored changes."""

from __future__ import annotations

from dsr.keywork.scoping import count_contacts_overdue
from dsr.places.impact import Change, register_impact


def contact_interval(change: Change) -> list[str]:
    old = count_contacts_overdue(change.place.pk, int(change.old))
    new = count_contacts_overdue(change.place.pk, int(change.new))
    return [
        f"{new} of the place's keyworker allocations would have a contact overdue, instead of "
        f"{old} now. This changes at once: contacts already logged stay as they are."
    ]


def register_impacts() -> None:
    register_impact("keyworker_contact_days", estimator=contact_interval)
