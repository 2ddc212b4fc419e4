"""A place's audit trail, searched by its auditors (information-governance leads).

Everything filed in the place's chain, and the sign-in events (system chain) of the place's
own users: failed passwords and codes, lockouts, set-up links, sign-ins. And, asked for on
their own, the sign-in refusals that name no account of the register (an unknown email, a
made-up set-up link, an address turned away for too many attempts): they belong to no place,
so every place's auditors can search them (ADR 0039).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from dsr.accounts.models import User
from dsr.core import audit, chain
from dsr.core.access import Permission, requires
from dsr.core.forms import Form
from dsr.core.models import REFUSALS_OF_SIGN_IN, AuditAction, AuditEvent
from dsr.places.models import Membership

PLACE, NO_ACCOUNT = "place", "no_account"


class AuditSearchForm(Form):
    trail = forms.ChoiceField(
        label="Events",
        required=False,
        choices=[
            (PLACE, "This place's trail"),
            (NO_ACCOUNT, "Sign-in refusals that name no account (every place)"),
        ],
    )
    who = forms.CharField(label="User's email (or part of it)", required=False, max_length=254)
    person = forms.IntegerField(label="Person ID", required=False, min_value=1, max_value=2**63 - 1)
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any"), *AuditAction.choices]
    )


def trail_of(place: Any) -> Any:
    """The place's events, and the system chain's events about its users' sign-ins."""
    users = Membership.objects.filter(place=place).values("user__email")
    return AuditEvent.objects.filter(
        Q(place_id=place.pk) | Q(chain=chain.SYSTEM, actor_label__in=users)
    )


def refusals_of_no_account() -> Any:
    """Sign-in refusals in the system chain that concern no account of the register: no
    actor, and a label that is no user's email (services.record_sign_in_failure labels a
    refusal with the typed email, or with what was refused)."""
    account = User.objects.filter(email=OuterRef("actor_label"))
    return AuditEvent.objects.filter(
        chain=chain.SYSTEM, action__in=REFUSALS_OF_SIGN_IN, actor__isnull=True
    ).exclude(Exists(account))


@requires(Permission.SEARCH_AUDIT)
@require_safe
def audit_search(request: HttpRequest) -> HttpResponse:
    form = AuditSearchForm(request.GET)
    terms: dict[str, Any] = {}
    no_account = form.is_valid() and form.cleaned_data["trail"] == NO_ACCOUNT
    events = refusals_of_no_account() if no_account else trail_of(request.place)  # type: ignore[attr-defined]
    events = events.select_related("actor")
    if form.is_valid():
        terms = {k: v for k, v in form.cleaned_data.items() if v not in ("", None, PLACE)}
        if terms.get("who"):
            events = events.filter(actor_label__icontains=terms["who"])
        if terms.get("person"):
            events = events.filter(audit.about(terms["person"]))
        if terms.get("action"):
            events = events.filter(action=terms["action"])
    page = Paginator(events.order_by("-id"), 50).get_page(request.GET.get("page"))
    audit.record_audit_search(context=audit.Context.of(request), terms=terms)
    return render(
        request,
        "core/audit_search.jinja",
        {"form": form, "page": page, "no_account": no_account},
    )
