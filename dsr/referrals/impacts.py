"""What changing the referral settings affects (places/impact.py, ADR 0021): a referral's
first contact is due the place's working days after it came in, worked out whenever the
queue is shown, so a change shows at once on the referrals already waiting."""

from __future__ import annotations

from dsr.core import dates
from dsr.core.routing import absolute
from dsr.places.impact import Change, register_impact
from dsr.referrals.scoping import waiting_for_first_contact


def first_contact(change: Change) -> list[str]:
    today = dates.today()
    received = waiting_for_first_contact(change.place.pk)

    def overdue(days: int) -> int:
        return sum(today > dates.add_working_days(day, days) for day in received)

    return [
        f"Of the {len(received)} referrals waiting for first contact, {overdue(int(change.new))} "
        f"would be overdue, instead of {overdue(int(change.old))} now. This changes at once."
    ]


def self_referral_form(change: Change) -> list[str]:
    from django.urls import reverse

    address = absolute(reverse("public:refer", args=[change.place.pk]))
    if change.new:
        return [f"The form for parents and carers will be at {address}: publish that address."]
    return [f"{address} will explain how to be referred by a professional instead."]


def register_impacts() -> None:
    register_impact("first_contact_working_days", estimator=first_contact)
    register_impact("parent_self_referral", estimator=self_referral_form)
