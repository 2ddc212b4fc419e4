"""The Jinja2 environment: NHS.UK macros, url/static helpers, form rendering."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib.messages import get_messages
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from jinja2 import ChainableUndefined, ChoiceLoader, Environment, PackageLoader, pass_context
from markupsafe import Markup

from dsr.core import dates, nhs_number
from dsr.core.access import Permission, role_has
from dsr.core.forms import error_summary
from dsr.core.routing import absolute, place_routes, url_in
from dsr.people import sharing


@pass_context
def url(context: Any, name: str, *args: Any) -> str:
    """`url("register:person", person.pk)`: a place's pages get the page's place put in."""
    request = context.get("request")
    if name in place_routes():
        return url_in(request.place.pk, name, *args)
    return reverse(name, args=args or None)


def format_date(value: date | datetime | None, fmt: str = "%-d %B %Y") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return value.strftime(fmt)


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%-d %B %Y at %H:%M")


def age(value: date | None) -> str:
    if value is None:
        return ""
    years = dates.age_on(value, dates.today())
    return f"{years} year{'s' if years != 1 else ''}"


def audit_details(event: Any) -> str:
    """A one-line account of an audit event, never showing old or new values of care data."""
    changes = event.changes or {}
    if event.action == "changed":
        fields = sorted(k.replace("_", " ") for k in changes if k != "version")
        return "Fields: " + ", ".join(fields)
    if event.action == "created":
        return ""
    if event.action == "checked":
        here = len(changes.get("shown", []))
        elsewhere = "yes" if changes.get("found_elsewhere") else "no"
        return f"found on this register: {here}; on another place's register: {elsewhere}"
    parts = []
    for key in (
        "page",
        "reason",
        "step",
        "fields",
        "path",
        "terms",
        "results",
        "ip",
        "user",
        "role",
    ):
        if key in changes and changes[key] not in ("", None, {}):
            value = changes[key]
            if isinstance(value, dict):
                value = ", ".join(f"{k}={v}" for k, v in value.items())
            elif isinstance(value, list):
                value = ", ".join(str(v) for v in value)
            parts.append(f"{key}: {value}")
    if "shown" in changes:
        shown = len(changes["shown"])
        parts.append(f"{shown} {'person' if shown == 1 else 'people'} shown")
    return "; ".join(parts)


# Tags a page shows many times (a register page: twice a row), written in Python rather
# than as Jinja macros: a macro call costs far more than a function's (`make bench`).
RATING_TAG = {
    code: Markup('<strong class="nhsuk-tag nhsuk-tag--{}">{}</strong>').format(colour, name)
    for code, colour, name in [
        ("R", "red", "Red"),
        ("A", "orange", "Amber"),
        ("G", "green", "Green"),
        ("B", "blue", "Blue"),
    ]
}
NOT_RATED = Markup('<strong class="nhsuk-tag nhsuk-tag--grey">Not rated</strong>')


def rating_tag(code: str | None) -> Markup:
    return RATING_TAG.get(code or "", NOT_RATED)


def due_tag(day: date | None) -> Markup:
    """A due date, flagged when it is today or past."""
    if day is None:
        return Markup("")
    days = (day - dates.today()).days
    if days < 0:
        return Markup(
            '<strong class="nhsuk-tag nhsuk-tag--red">Overdue</strong> '
            '<span class="dsr-nowrap">{}</span>'
        ).format(format_date(day))
    if days == 0:
        return Markup('<strong class="nhsuk-tag nhsuk-tag--orange">Due today</strong>')
    return Markup("{}").format(format_date(day))


# What an audited object is, in words (an auditor reads these, not class names).
OBJECT_WORDS = {
    "AuditEvent": "the audit trail",
    "NetworkMember": "care network member",
    "Signal": "early-warning flag",
    "Cetr": "C(E)TR",
    "Admission": "stay in hospital",
}


def object_words(object_type: str) -> str:
    """`SignificantEvent` -> "significant event"."""
    if object_type in OBJECT_WORDS:
        return OBJECT_WORDS[object_type]
    return re.sub(r"(?<!^)(?=[A-Z])", " ", object_type).lower()


@pass_context
def who(context: Any, person: Any) -> sharing.Identity:
    """`who(person).name`: a person as this page's reader may know them (people/sharing.py):
    their details, or "Restricted record N" when their consent is withdrawn."""
    request = context.get("request")
    return sharing.identify(
        person, sharing.Audience.of_membership(getattr(request, "membership", None))
    )


def days_ago(day: date) -> str:
    days = (dates.today() - day).days
    return {0: "today", 1: "yesterday"}.get(days, f"{days} days ago")


def working_days_ago(days: int, since: date) -> str:
    """A referral's age: "today", or in working days (a weekend does not count)."""
    if since == dates.today():
        return "today"
    return f"{days} working day{'s' if days != 1 else ''} ago"


def membership_allows(membership: Any, permission: str) -> bool:
    return role_has(membership.role, Permission(permission))


def work_count(request: Any) -> int:
    """Items on the user's "My work", for the navigation (dsr/work/navigation.py)."""
    from dsr.work.navigation import navigation_count

    return navigation_count(request)


def environment(**options: Any) -> Environment:
    # nhsuk-frontend-jinja needs ChainableUndefined for its optional parameters.
    options["undefined"] = ChainableUndefined
    options["loader"] = ChoiceLoader([options["loader"], PackageLoader("nhsuk_frontend_jinja")])
    options.setdefault("autoescape", True)
    options["extensions"] = [*options.get("extensions", []), "jinja2.ext.do"]
    env = Environment(**options)  # noqa: S701 - autoescape is on
    env.globals.update(
        url=url,
        static=static,
        error_summary=error_summary,
        get_messages=get_messages,
        demo_mode=settings.DSR_DEMO,
        nhs_fonts=settings.DSR_NHS_FONTS,
        service_name="Dynamic Support Register",
        membership_allows=membership_allows,
        today=dates.today,
        work_count=work_count,
        rating_tag=rating_tag,
        due_tag=due_tag,
        who=who,
        working_days_ago=working_days_ago,
        days_ago=days_ago,
        absolute=absolute,
    )
    env.filters.update(
        nhs_number=nhs_number.display,
        date=format_date,
        datetime=format_datetime,
        age=age,
        audit_details=audit_details,
        object_words=object_words,
    )
    return env
