"""Consent: its history, recording it, and recording its withdrawal. Views load through
the door, check, call one service, redirect."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from dsr.consent import services
from dsr.consent.forms import ConsentForm, WithdrawalForm
from dsr.consent.scoping import CONSENTS, WITHDRAWALS
from dsr.core import dates
from dsr.core.access import Permission, requires
from dsr.core.door import Viewer
from dsr.core.forms import add_service_error
from dsr.core.once import SENT_ALREADY, once
from dsr.core.routing import redirect_to
from dsr.people.scoping import PEOPLE
from dsr.places.services import organisations_of


@requires(Permission.VIEW_PERSON)
@require_safe
def consent_history(request: HttpRequest, person_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    person = PEOPLE.get(viewer, person_id, purpose="consent")
    consents = CONSENTS.about(viewer, person, purpose="consent").prefetch_related("share_with")
    withdrawals = WITHDRAWALS.about(viewer, person, purpose="consent")
    history = sorted(
        [("consent", c.given_on, c) for c in consents]
        + [("withdrawal", w.withdrawn_on, w) for w in withdrawals],
        key=lambda entry: (entry[1], entry[2].created_at),
        reverse=True,
    )
    return render(request, "consent/history.jinja", {"person": person, "history": history})


@requires(Permission.RECORD_CONSENT)
@require_http_methods(["GET", "POST"])
def consent_new(request: HttpRequest, person_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    person = PEOPLE.get(viewer, person_id, purpose="consent form")
    if not person.is_open:
        messages.info(request, "Closed records take no new consent")
        return redirect_to(request, "register:person", person.pk)
    form = ConsentForm(
        request.POST or None,
        organisations=organisations_of(person.place),
        initial={"given_on": dates.today()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with once(form) as first:
                if first:
                    services.record_consent(
                        person=person,
                        given_by=data["given_by"],
                        basis=data["basis"],
                        consenter=data["consenter"],
                        given_on=data["given_on"],
                        evidence=data["evidence"],
                        evidence_note=data["evidence_note"],
                        share_with=data["share_with"],
                        by=viewer.context,
                    )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Consent recorded" if first else SENT_ALREADY)
            return redirect_to(request, "register:person", person.pk)
    return render(request, "consent/consent_new.jinja", {"form": form, "person": person})


@requires(Permission.RECORD_CONSENT)
@require_http_methods(["GET", "POST"])
def consent_withdraw(request: HttpRequest, person_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    person = PEOPLE.get(viewer, person_id, purpose="withdrawal form")
    if person.consent_withdrawn:
        messages.info(request, "Consent is already recorded as withdrawn")
        return redirect_to(request, "register:person", person.pk)
    form = WithdrawalForm(request.POST or None, initial={"withdrawn_on": dates.today()})
    if request.method == "POST" and form.is_valid():
        try:
            services.withdraw_consent(
                person=person,
                withdrawn_on=form.cleaned_data["withdrawn_on"],
                withdrawn_by=form.cleaned_data["withdrawn_by"],
                note=form.cleaned_data["note"],
                by=viewer.context,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                "Consent withdrawal recorded. The record is restricted to coordinators and "
                "flagged for closure",
            )
            return redirect_to(request, "register:person", person.pk)
    return render(request, "consent/withdraw.jinja", {"form": form, "person": person})
