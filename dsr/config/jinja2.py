"""The Jinja2 environment: NHS.UK macros, url/static helpers, form rendering."""

from __future__ import annotations

import re
from collections import OrderedDict
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.messages import get_messages
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from jinja2 import (
    ChainableUndefined,
    ChoiceLoader,
    Environment,
    PackageLoader,
    pass_context,
    pass_environment,
)
from markupsafe import Markup, escape

from dsr.core import dates, nhs_number
from dsr.core.access import Permission, role_has
from dsr.core.forms import error_summary
from dsr.core.routing import absolute, place_routes, url_in
from dsr.core.tags import (
    age,
    days_ago,
    due_tag,
    format_date,
    rating_tag,
    working_days_ago,
)
from dsr.people import sharing


@pass_context
def url(context: Any, name: str, *args: Any) -> str:
    """`url("register:person", person.pk)`: a place's pages get the page's place put in."""
    request = context.get("request")
    if name in place_routes():
        return url_in(request.place.pk, name, *args)
    return reverse(name, args=args or None)


@lru_cache(maxsize=256)
def static_url(path: str) -> str:
    """`static("app/app.css")`: the file's URL (hashed in production), kept: a page asks for
    six and the storage works each one out afresh (make bench)."""
    return static(path)


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%-d %B %Y at %H:%M")


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
        "identity",
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


_ICONS: dict[str, Markup] = {}


def _icon(env: Environment, name: str) -> Markup:
    """An NHS icon's SVG, from nhsuk-frontend-jinja's own macro, once a process."""
    if name not in _ICONS:
        macro = env.get_template("nhsuk/macros/icon.jinja").module.nhsukIcon  # type: ignore[attr-defined]
        _ICONS[name] = Markup(str(macro(name)).strip())  # noqa: S704 - the package's markup
    return _ICONS[name]


@pass_environment
def skip_link(env: Environment) -> Markup:
    """The NHS skip link every page opens with, from nhsuk-frontend-jinja's own macro, once a
    process: it is the same on every page, and a macro call a page was a cost (make bench)."""
    if not _SKIP_LINK:
        macro = env.get_template("nhsuk/components/skip-link/macro.jinja").module.skipLink  # type: ignore[attr-defined]
        link = macro({"href": "#maincontent", "text": "Skip to main content"})
        _SKIP_LINK.append(Markup(str(link)))  # noqa: S704 - the package's markup
    return _SKIP_LINK[0]


_SKIP_LINK: list[Markup] = []


@pass_environment
def pagination_links(
    env: Environment, previous: dict[str, str] | None, after: dict[str, str] | None
) -> Markup:
    """The NHS pagination component's previous and next links, written out directly (as the
    register's rows and selects are): the macro took over a millisecond a list page. The
    same markup, whitespace apart, as nhsuk-frontend-jinja's `pagination({"previous": ...,
    "next": ...})` (tests/core/test_pagination.py); each link is {"href", "labelText"}."""
    items = []
    for side, link, rel, word, icon in (
        ("previous", previous, "prev", "Previous", "arrow-left"),
        ("next", after, "next", "Next", "arrow-right"),
    ):
        if not link or not link.get("href"):
            continue
        label = str(link.get("labelText") or "").strip()
        items.append(
            f'<li class="nhsuk-pagination-item--{side}"><a class="nhsuk-pagination__link'
            f' nhsuk-pagination__link--{rel}" href="{escape(link["href"])}" rel="{rel}">'
            f'<span class="nhsuk-pagination__title">{word}'
            '<span class="nhsuk-u-visually-hidden"> page</span></span>'
            + (
                '<span class="nhsuk-u-visually-hidden">:</span>'
                f'<span class="nhsuk-pagination__page">{escape(label)}</span>'
                if label
                else ""
            )
            + f"{_icon(env, icon)}</a></li>"
        )
    return Markup(  # noqa: S704 - every value escaped above
        '<nav class="nhsuk-pagination" role="navigation" aria-label="Pagination">'
        f'<ul class="nhsuk-list nhsuk-pagination__list">{"".join(items)}</ul></nav>'
    )


@pass_environment
def page_links(env: Environment, page: Any, request: Any) -> Markup:
    """`page_links(page, request)`: the previous and next links of a paginated list, each
    keeping the request's other parameters (its search and filters); nothing on one page."""
    count = page.paginator.num_pages
    if count <= 1:
        return Markup("")
    links = []
    for present, number in (
        (page.has_previous(), page.previous_page_number),
        (page.has_next(), page.next_page_number),
    ):
        if not present:
            links.append(None)
            continue
        query = request.GET.copy()
        query["page"] = number()
        links.append({"href": f"?{query.urlencode()}", "labelText": f"Page {number()} of {count}"})
    return pagination_links(env, *links)


@pass_environment
def back_link(env: Environment, params: dict[str, Any]) -> Markup:
    """`backLink({"href": ..., "text": ...})`: the NHS back link, written out directly (as
    the pagination links are): the macro took a seventh of a short page's template time.
    The same markup, whitespace apart, as nhsuk-frontend-jinja's `backLink` for a link with
    an href and a text (tests/core/test_back_link.py); anything else goes to the macro."""
    href = params.get("href")
    if not href or not set(params) <= {"href", "text"}:
        macro = env.get_template("nhsuk/components/back-link/macro.jinja").module.backLink  # type: ignore[attr-defined]
        return Markup(str(macro(params)))  # noqa: S704 - the package's markup
    text = params.get("text") or "Back"
    return Markup(f'<a class="nhsuk-back-link" href="{escape(href)}">{escape(text)}</a>')  # noqa: S704 - escaped


WARNING_CALLOUT = "nhsuk/components/warning-callout/macro.jinja"


@pass_environment
def warning_callout(env: Environment, params: dict[str, Any], caller: Any = None) -> Markup:
    """`{% call warningCallout({"heading": ...}) %}...{% endcall %}`: the NHS warning callout
    (a warning card), written out directly as the back link is: the macro goes through the
    card macro, a twentieth of the person page's time for its key safety information. The
    same markup, whitespace apart, as nhsuk-frontend-jinja's for a text heading and a body
    (tests/core/test_warning_callout.py); anything else goes to the macro."""
    heading = params.get("heading")
    if caller is None or not heading or not isinstance(heading, str) or set(params) != {"heading"}:
        module = env.get_template(WARNING_CALLOUT).module
        macro = module.warningCallout  # type: ignore[attr-defined]
        return Markup(str(macro(params, caller=caller) if caller else macro(params)))  # noqa: S704 - the package's markup
    title = escape(heading)
    if "Important" not in heading and "important" not in heading:
        hidden = '<span class="nhsuk-u-visually-hidden">Important: </span>'
        title = Markup(f'<span role="text">{hidden}{title}</span>')  # noqa: S704 - escaped
    return Markup(  # noqa: S704 - escaped, and the caller's own markup
        '<div class="nhsuk-card nhsuk-card--warning"><div class="nhsuk-card__content">'
        f'<h3 class="nhsuk-card__heading">{title}</h3>{caller()}</div></div>'
    )


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


def membership_allows(membership: Any, permission: str) -> bool:
    return role_has(membership.role, Permission(permission))


def work_count(request: Any) -> int:
    """Items on the user's "My work", for the navigation (dsr/work/navigation.py)."""
    from dsr.work.navigation import navigation_count

    return navigation_count(request)


# The header's navigation: (permission, label, route), in order.
NAVIGATION = [
    ("view_my_work", "My work", "work:my_work"),
    ("view_register", "Register", "register:list"),
    ("view_referrals", "Referrals", "referrals:queue"),
    ("view_caseload", "Caseloads", "keywork:caseloads"),
    ("view_rising_risk", "Rising risk", "register:rising_risk"),
    ("view_inpatients", "Inpatients", "hospital:inpatients"),
    ("view_cetr_schedule", "C(E)TRs", "reviews:schedule"),
    ("view_meetings", "Meetings", "meetings:list"),
    ("add_person", "Add a person", "register:add"),
    ("search_audit", "Audit trail", "audit_search"),
    ("manage_users", "Users", "places:users"),
    ("view_place_settings", "Place settings", "places:settings"),
]
# Where the CSRF field goes in a kept header: each page fills in its own token.
CSRF_SLOT = "\x00csrf-field\x00"
KEPT_HEADERS = 512
_headers: OrderedDict[tuple[Any, ...], str] = OrderedDict()
_footers: dict[str, str] = {}


@lru_cache(maxsize=1024)
def _navigation_of(role: str, place_id: int, prefix: str) -> tuple[tuple[str, str, str], ...]:
    """The navigation a role has in a place: (href, label, route), the same on every page.
    `prefix`, the script prefix the addresses are reversed under, is part of the key."""
    items = []
    for permission, label, name in NAVIGATION:
        if not role_has(role, Permission(permission)):
            continue
        href = url_in(place_id, name) if name in place_routes() else reverse(name)
        if name == "keywork:caseloads" and role == "keyworker":
            label = "My caseload"
        items.append((href, label, name))
    return tuple(items)


def _navigation(request: Any, membership: Any) -> tuple[tuple[str, str, bool], ...]:
    return tuple(
        (
            href,
            f"{label} ({work_count(request)})" if name == "work:my_work" else label,
            request.path == href,
        )
        for href, label, name in _navigation_of(
            membership.role, membership.place_id, get_script_prefix()
        )
    )


@pass_context
def page_header(context: Any) -> Markup:
    """The NHS header (templates/partials/header.jinja). Rendering it was the costliest
    part of a page (make bench), and it is the same on every page of a user's place but for
    the current item and the CSRF token: each distinct header is kept (a few hundred, per
    process), the token filled in per page."""
    request = context["request"]
    user = request.user if request.user.is_authenticated else None
    membership = getattr(request, "membership", None)
    navigation = _navigation(request, membership) if membership is not None else ()
    places = tuple((m.place_id, m.role, m.place.name) for m in getattr(request, "memberships", []))
    key = (
        getattr(user, "pk", None),
        getattr(user, "full_name", ""),
        getattr(user, "email", ""),
        getattr(membership, "pk", None),
        getattr(membership, "role", None),
        getattr(membership, "place_id", None),
        places,
        navigation,
    )
    html = _headers.get(key)
    if html is None:
        html = context.environment.get_template("partials/header.jinja").render(
            request=request,
            user=user,
            membership=membership,
            switcher=request,
            csrf_input=Markup(CSRF_SLOT),  # noqa: S704 - a fixed marker, replaced below
            nav_items=[{"href": h, "text": t, "current": c} for h, t, c in navigation],
            home=reverse("home"),
        )
        _headers[key] = html
        if len(_headers) > KEPT_HEADERS:
            _headers.popitem(last=False)
    else:
        _headers.move_to_end(key)
    return Markup(html.replace(CSRF_SLOT, str(context.get("csrf_input", ""))))  # noqa: S704


@pass_context
def page_footer(context: Any) -> Markup:
    """The NHS footer: the same on every page, rendered once (a script prefix)."""
    prefix = get_script_prefix()
    html = _footers.get(prefix)
    if html is None:
        home = reverse("home")
        html = context.environment.get_template("partials/footer.jinja").render(home=home)
        _footers[prefix] = html
    return Markup(html)  # noqa: S704 - rendered by our own template


# Name in every template: (template, macro), or the whole template's macros for None.
PAGE_MACROS = {
    "button": ("nhsuk/components/button/macro.jinja", "button"),
    "tag": ("nhsuk/components/tag/macro.jinja", "tag"),
    "insetText": ("nhsuk/components/inset-text/macro.jinja", "insetText"),
    "ui": ("macros.jinja", None),
}


def environment(**options: Any) -> Environment:
    # nhsuk-frontend-jinja needs ChainableUndefined for its optional parameters.
    options["undefined"] = ChainableUndefined
    options["loader"] = ChoiceLoader([options["loader"], PackageLoader("nhsuk_frontend_jinja")])
    options.setdefault("autoescape", True)
    options["extensions"] = [*options.get("extensions", []), "jinja2.ext.do"]
    env = Environment(**options)  # noqa: S701 - autoescape is on
    env.globals.update(
        url=url,
        static=static_url,
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
        pagination_links=pagination_links,
        page_links=page_links,
        backLink=back_link,
        warningCallout=warning_callout,
        skip_link=skip_link,
        who=who,
        page_header=page_header,
        page_footer=page_footer,
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
    # The macros any page may use, imported once a process rather than by the layout on every
    # render (make bench: a fifth of a short page's template time). Imported without
    # context, as the layout imported them: they see the environment's globals only. An
    # edit to one of these templates shows after a restart, as an edit to Python does.
    for name, (template, macro) in PAGE_MACROS.items():
        module = env.get_template(template).module
        env.globals[name] = getattr(module, macro) if macro else module
    return env
