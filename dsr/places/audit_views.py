"""A place's audit trail, searched by its auditors (information-governance leads).

Everything filed in the place's chain, and the sign-in events (system chain) of the place's
own users: failed passwords and codes, lockouts, set-up links, sign-ins.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from dsr.core import audit, chain
from dsr.core.access import Permission, requires
from dsr.core.forms import Form
from dsr.core.models import AuditAction, AuditEvent
from dsr.places.models import Membership


class AuditSearchForm(Form):
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


@requires(Permission.SEARCH_AUDIT)
@require_safe
def audit_search(request: HttpRequest) -> HttpResponse:
    form = AuditSearchForm(request.GET)
    events = trail_of(request.place).select_related("actor")  # type: ignore[attr-defined]
    terms: dict[str, Any] = {}
    if form.is_valid():
        terms = {k: v for k, v in form.cleaned_data.items() if v not in ("", None)}
        if terms.get("who"):
            events = events.filter(actor_label__icontains=terms["who"])
        if terms.get("person"):
            events = events.filter(audit.about(terms["person"]))
        if terms.get("action"):
            events = events.filter(action=terms["action"])
    page = Paginator(events.order_by("-id"), 50).get_page(request.GET.get("page"))
    audit.record_audit_search(context=audit.Context.of(request), terms=terms)
    return render(request, "core/audit_search.jinja", {"form": form, "page": page})
