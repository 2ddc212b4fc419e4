"""The place's risk-factor checklist, managed by its place admin (ADR 0015): the factors a
rating may say informed it (DOMAIN.md "Risk rating": a checklist, not a score)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from dsr.core import audit
from dsr.core.access import Permission, requires
from dsr.core.door import of_acting_place
from dsr.core.forms import Form, add_service_error, posted
from dsr.core.routing import redirect_to
from dsr.risk import services
from dsr.risk.models import RiskFactor


class FactorForm(Form):
    label = forms.CharField(label="Risk factor", max_length=200)


class FactorEditForm(FactorForm):
    is_active = forms.TypedChoiceField(
        label="Is it still on the checklist?",
        choices=[("True", "Yes, offer it when rating"), ("False", "No, retire it")],
        coerce=lambda value: value == "True",
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether the factor is still in use"},
    )


def _factor(request: HttpRequest, factor_id: int) -> RiskFactor:
    return of_acting_place(request, RiskFactor.objects.all(), factor_id)


def _refused(request: HttpRequest, form: Form) -> None:
    audit.record_refused(
        context=audit.Context.of(request),
        place_id=request.place.pk,  # type: ignore[attr-defined]
        what="risk factor",
        reason="invalid",
        fields=sorted(form.errors),
    )


@requires(Permission.MANAGE_RISK_FACTORS)
@require_http_methods(["GET", "POST"])
def factors(request: HttpRequest) -> HttpResponse:
    place = request.place  # type: ignore[attr-defined]
    if request.POST.get("direction") in ("up", "down"):  # a "Move up/down" button
        return _move(request)
    form = FactorForm(posted(request))
    if request.method == "POST":
        if form.is_valid():
            try:
                services.add_risk_factor(
                    place=place, label=form.cleaned_data["label"], by=audit.Context.of(request)
                )
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, "Risk factor added to the end of the checklist")
                return redirect_to(request, "riskfactors:list")
        else:
            _refused(request, form)
    listed = list(RiskFactor.objects.filter(place=place).order_by("position", "id"))
    return render(request, "risk/factors.jinja", {"form": form, "factors": listed})


@requires(Permission.MANAGE_RISK_FACTORS)
@require_http_methods(["GET", "POST"])
def factor_edit(request: HttpRequest, factor_id: int) -> HttpResponse:
    factor = _factor(request, factor_id)
    form = FactorEditForm(
        posted(request),
        initial={"label": factor.label, "is_active": str(factor.is_active)},
    )
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_risk_factor(
                    factor=factor,
                    label=form.cleaned_data["label"],
                    is_active=form.cleaned_data["is_active"],
                    by=audit.Context.of(request),
                )
            except ValidationError as error:
                add_service_error(form, error)
            else:
                messages.success(request, "Risk factor saved")
                return redirect_to(request, "riskfactors:list")
        else:
            _refused(request, form)
    return render(request, "risk/factor_edit.jinja", {"form": form, "factor": factor})


def _move(request: HttpRequest) -> HttpResponse:
    try:
        factor_id = int(request.POST.get("factor", ""))
    except ValueError:
        raise Http404("Not found") from None
    factor = _factor(request, factor_id)
    up = request.POST["direction"] == "up"
    services.move_risk_factor(factor=factor, up=up, by=audit.Context.of(request))
    return redirect_to(request, "riskfactors:list")
