"""The auditor's audit search, and the NHS-style error pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from dsr.core import audit
from dsr.core.access import Permission, requires
from dsr.core.forms import Form
from dsr.core.models import AuditAction, AuditEvent


class AuditSearchForm(Form):
    who = forms.CharField(label="User's email (or part of it)", required=False, max_length=254)
    person = forms.IntegerField(label="Person ID", required=False, min_value=1, max_value=2**63 - 1)
    action = forms.ChoiceField(
        label="Action", required=False, choices=[("", "Any"), *AuditAction.choices]
    )


@requires(Permission.SEARCH_AUDIT)
@require_safe
def audit_search(request: HttpRequest) -> HttpResponse:
    form = AuditSearchForm(request.GET)
    events = AuditEvent.objects.filter(
        Q(place_id=request.place.pk)  # type: ignore[attr-defined]
    ).select_related("actor")
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


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.jinja", {}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "errors/500.jinja", {}, status=500)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.jinja", {}, status=403)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/400.jinja", {}, status=400)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "errors/403.jinja", {"csrf": True}, status=403)
