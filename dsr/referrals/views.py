"""The referral queue, recording a referral, and triage. Views load through the door,
check, call one service, redirect."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from dsr.core import dates, nhs_number, text
from dsr.core.access import Permission, allows, requires
from dsr.core.door import Viewer
from dsr.core.forms import MOVES_ON, Form, VersionField, add_service_error, changed_meanwhile
from dsr.core.models import StaleVersion
from dsr.core.once import SENT_ALREADY, once
from dsr.core.routing import redirect_to
from dsr.people import services as people
from dsr.people.scoping import PEOPLE
from dsr.referrals import services
from dsr.referrals.forms import (
    DeclineForm,
    FirstContactForm,
    LinkForm,
    MoreInformationForm,
    ReferralForm,
)
from dsr.referrals.models import OPEN_STATUSES, Referral
from dsr.referrals.rows import queue_rows
from dsr.referrals.scoping import DECISIONS, REFERRALS
from dsr.register.forms import NewPersonForm
from dsr.risk.forms import RatingFields

PAGE_SIZE = 50
QUEUE = "referral queue"
STALE = "Someone else changed this referral while you were working. Check it and try again"


class QueueForm(Form):
    q = forms.CharField(label="Reference or name", required=False, max_length=100)
    status = forms.ChoiceField(
        label="Show",
        required=False,
        choices=[
            ("waiting", "Waiting for a decision"),
            ("accepted", "Accepted"),
            ("declined", "Declined"),
            ("all", "All"),
        ],
    )

    def value(self, name: str, default: str = "") -> str:
        if name in self.errors:
            return default
        return str(self.cleaned_data.get(name) or default)


def age_of(referral: Referral, policy: Any) -> dict[str, Any]:
    """A waiting referral's age in working days against the place's first-contact target."""
    due = referral.first_contact_due(policy.first_contact_working_days)
    today = dates.today()
    return {
        "days": dates.working_days_between(referral.received_on, today),
        "due": due,
        "overdue": referral.first_contact_on is None and today > due,
    }


def _search(found: Any, query: str) -> Any:
    if not query:
        return found
    reference = query.strip().upper().replace(" ", "")
    if reference.startswith("R-") or (len(reference) >= 8 and reference.isalnum()):
        bare = reference.replace("-", "").removeprefix("R")
        if len(bare) == 8:
            return found.filter(reference=f"R-{bare[:4]}-{bare[4:]}")
    if nhs_number.looks_like(query):
        return found.filter(nhs_number=nhs_number.normalise(query))
    typed = text.words(query)
    if not typed:
        return found.none()
    for word in typed[:4]:
        found = found.filter(search_name__contains=f" {word}")
    return found


@requires(Permission.VIEW_REFERRALS)
@require_safe
def queue(request: HttpRequest) -> HttpResponse:
    viewer = Viewer.of(request)
    form = QueueForm(request.GET)
    form.is_valid()
    query = form.value("q").strip()
    status = form.value("status", "waiting")
    found = REFERRALS.list(
        viewer, purpose=QUEUE, terms={"q": query, "status": status} if query else None
    )
    if status == "waiting":
        found = found.filter(status__in=OPEN_STATUSES).order_by("received_on", "id")
    else:
        if status != "all":
            found = found.filter(status=status)
        found = found.order_by("-received_on", "-id")
    found = _search(found, query)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    policy = request.place.settings  # type: ignore[attr-defined]
    for row in rows:
        row.age = age_of(row, policy) if row.is_waiting else None
    return render(
        request,
        "referrals/queue.jinja",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "rows_html": queue_rows(rows, request.place.pk),  # type: ignore[attr-defined]
            "status": status,
            "query": query,
            "policy": policy,
        },
    )


@requires(Permission.ADD_REFERRAL)
@require_http_methods(["GET", "POST"])
def referral_new(request: HttpRequest) -> HttpResponse:
    viewer = Viewer.of(request)
    form = ReferralForm(request.POST or None, initial={"received_on": dates.today()})
    if request.method == "POST" and form.is_valid():
        try:
            with once(form) as first:
                referral = (
                    services.record_referral(
                        place=request.place,  # type: ignore[attr-defined]
                        data=form.referral_data(),
                        by=viewer.context,
                    )
                    if first
                    else None
                )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            if referral is None:
                messages.success(request, SENT_ALREADY)
                return redirect_to(request, "referrals:queue")
            messages.success(request, f"Referral {referral.reference} recorded")
            return redirect_to(request, "referrals:detail", referral.pk)
    return render(request, "referrals/referral_new.jinja", {"form": form})


def _referral(request: HttpRequest, referral_id: int, purpose: str) -> Referral:
    return REFERRALS.get(Viewer.of(request), referral_id, purpose=purpose)


@requires(Permission.VIEW_REFERRALS)
@require_safe
def referral_detail(request: HttpRequest, referral_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    referral = _referral(request, referral_id, "referral")
    decisions = list(
        DECISIONS.list(viewer, purpose="referral")
        .filter(referral=referral)
        .select_related("decided_by")
    )
    policy = request.place.settings  # type: ignore[attr-defined]
    return render(
        request,
        "referrals/referral.jinja",
        {
            "referral": referral,
            "decisions": decisions,
            "age": age_of(referral, policy) if referral.is_waiting else None,
            "policy": policy,
            "may": {p: allows(viewer.membership, p) for p in Permission},
        },
    )


def _decision_view(
    request: HttpRequest,
    referral_id: int,
    *,
    form_class: Any,
    template: str,
    act: Any,
    done: str,
    waiting_only: bool = True,
) -> HttpResponse:
    referral = _referral(request, referral_id, "referral triage")
    if waiting_only and not referral.is_waiting:
        messages.info(request, services.NOT_WAITING)
        return redirect_to(request, "referrals:detail", referral.pk)
    today = dates.today()
    form = form_class(
        request.POST or None,
        initial={"version": referral.version, "decided_on": today, "contacted_on": today},
    )
    if request.method == "POST" and form.is_valid():
        try:
            act(referral, form.cleaned_data, Viewer.of(request).context)
        except StaleVersion:
            changed_meanwhile(form, referral, MOVES_ON)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, done)
            return redirect_to(request, "referrals:detail", referral.pk)
    return render(request, template, {"form": form, "referral": referral})


@requires(Permission.ADD_REFERRAL)
@require_http_methods(["GET", "POST"])
def first_contact(request: HttpRequest, referral_id: int) -> HttpResponse:
    return _decision_view(
        request,
        referral_id,
        form_class=FirstContactForm,
        template="referrals/first_contact.jinja",
        done="First contact recorded",
        waiting_only=False,
        act=lambda referral, data, by: services.record_first_contact(
            referral=referral,
            contacted_on=data["contacted_on"],
            how=data["communicated"],
            note=data["note"],
            expected_version=data["version"],
            by=by,
        ),
    )


@requires(Permission.TRIAGE_REFERRAL)
@require_http_methods(["GET", "POST"])
def more_information(request: HttpRequest, referral_id: int) -> HttpResponse:
    return _decision_view(
        request,
        referral_id,
        form_class=MoreInformationForm,
        template="referrals/more_information.jinja",
        done="Request for more information recorded",
        act=lambda referral, data, by: services.request_information(
            referral=referral,
            what=data["note"],
            how=data["communicated"],
            on=data["decided_on"],
            expected_version=data["version"],
            by=by,
        ),
    )


@requires(Permission.TRIAGE_REFERRAL)
@require_http_methods(["GET", "POST"])
def decline(request: HttpRequest, referral_id: int) -> HttpResponse:
    return _decision_view(
        request,
        referral_id,
        form_class=DeclineForm,
        template="referrals/decline.jinja",
        done="Referral declined",
        act=lambda referral, data, by: services.decline_referral(
            referral=referral,
            reason=data["note"],
            how=data["communicated"],
            on=data["decided_on"],
            expected_version=data["version"],
            by=by,
        ),
    )


class AcceptPersonForm(NewPersonForm):
    """A new person from the referral; `version` is the referral's (a stale triage)."""

    version = VersionField()


class ReopenRatingForm(RatingFields):
    """The rating a closed record gets when a referral opens it again."""


def _prefill(referral: Referral) -> dict[str, Any]:
    """The new person's fields from what the referral (or a transfer's packet) carried."""
    carried = dict(referral.transfer_packet.get("person", {}))
    carried.pop("date_of_birth", None)  # the referral's own is the one checked
    initial = {
        **carried,
        "given_name": referral.given_name,
        "family_name": referral.family_name,
        "date_of_birth": referral.date_of_birth,
        "nhs_number": nhs_number.display(referral.nhs_number) if referral.nhs_number else "",
        "postcode": referral.postcode or carried.get("postcode", ""),
        "version": referral.version,
    }
    ratings = referral.transfer_packet.get("ratings") or []
    if ratings:
        last = ratings[-1]
        code = {"Red": "R", "Amber": "A", "Green": "G", "Blue": "B"}.get(last["rating"], "")
        initial["rating"] = code
        initial["rationale"] = f"Carried over on transfer: {last['rationale']}"
    return initial


@requires(Permission.TRIAGE_REFERRAL)
@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest, referral_id: int) -> HttpResponse:
    """Accept: a new person, or the record this place already has of them."""
    viewer = Viewer.of(request)
    referral = _referral(request, referral_id, "referral triage")
    if not referral.is_waiting:
        messages.info(request, services.NOT_WAITING)
        return redirect_to(request, "referrals:detail", referral.pk)
    place = request.place  # type: ignore[attr-defined]
    posted = request.POST if request.method == "POST" else None
    linking = posted is not None and posted.get("action") == "link"
    form = AcceptPersonForm(
        None if linking else posted, policy=place.settings, initial=_prefill(referral)
    )
    link_form = LinkForm(posted if linking else None, initial={"version": referral.version})
    duplicates = people.find_duplicates(
        place=place,
        nhs=referral.nhs_number,
        given_name=referral.given_name,
        family_name=referral.family_name,
        date_of_birth=referral.date_of_birth,
        by=viewer.context,
    )
    found = list(
        PEOPLE.list(viewer, purpose="referral triage").filter(
            pk__in=[pk for pk, _reason in duplicates.here]
        )
    )
    chosen = link_form.cleaned_data.get("person") if linking and link_form.is_valid() else None
    # A closed record is opened again with a rating: a rating form for each, by its id.
    rating_forms = {
        p.pk: ReopenRatingForm(posted if p.pk == chosen else None, place=place, prefix=f"p{p.pk}")
        for p in found
        if not p.is_open
    }
    if chosen is not None:
        person = next((p for p in found if p.pk == chosen), None)
        rating_form = rating_forms.get(chosen)
        if person is None:
            link_form.add_error(None, "Choose one of the records listed")
        elif rating_form is not None and not rating_form.is_valid():
            pass  # the rating form shows its errors
        else:
            try:
                services.accept_for_existing_person(
                    referral=referral,
                    person=person,
                    note=link_form.cleaned_data["note"],
                    rating=rating_form.cleaned_data["rating"] if rating_form else "",
                    rationale=rating_form.cleaned_data["rationale"] if rating_form else "",
                    expected_version=link_form.cleaned_data["version"],
                    by=viewer.context,
                )
            except StaleVersion:
                link_form.add_error(None, STALE)
            except ValidationError as error:
                add_service_error(link_form, error)
            else:
                messages.success(request, f"Referral {referral.reference} accepted")
                return redirect_to(request, "register:person", person.pk)
    elif posted is not None and not linking and form.is_valid():
        data = form.cleaned_data
        try:
            person = services.accept_as_new_person(
                referral=referral,
                person_data=form.person_data(),
                rating=data["rating"],
                rationale=data["rationale"],
                factors=data["factors"],
                expected_version=data["version"],
                by=viewer.context,
            )
        except StaleVersion:
            changed_meanwhile(form, referral, MOVES_ON)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"{person.full_name} has been added to the register")
            return redirect_to(request, "register:person", person.pk)
    return render(
        request,
        "referrals/accept.jinja",
        {
            "referral": referral,
            "form": form,
            "link_form": link_form,
            "rating_forms": rating_forms,
            "found": found,
            "elsewhere": duplicates.elsewhere,
            "on_another_register": people.ON_ANOTHER_REGISTER,
        },
    )


@requires(Permission.TRANSFER_PERSON)
@require_http_methods(["GET", "POST"])
def transfer(request: HttpRequest, person_id: int) -> HttpResponse:
    """Transfer a person to another place ("moved out of area")."""
    from dsr.referrals import transfers
    from dsr.referrals.forms import TransferForm

    viewer = Viewer.of(request)
    person = PEOPLE.get(viewer, person_id, purpose="transfer form")
    if not person.is_open:
        messages.info(request, "Only an open record can be transferred")
        return redirect_to(request, "register:person", person.pk)
    form = TransferForm(
        request.POST or None,
        places=transfers.places_to_transfer_to(person.place_id),
        initial={"version": person.version},
    )
    if request.method == "POST" and form.is_valid():
        try:
            referral = transfers.transfer_person(
                person=person,
                to_place=form.cleaned_data["to_place"],
                note=form.cleaned_data["note"],
                expected_version=form.cleaned_data["version"],
                by=viewer.context,
            )
        except StaleVersion:
            changed_meanwhile(form, person, MOVES_ON)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                f"Transferred to {referral.place.name}: the record is closed here, and waits in "
                f"their referral queue as {referral.reference}",
            )
            return redirect_to(request, "register:person", person.pk)
    return render(
        request,
        "referrals/transfer.jinja",
        {"form": form, "person": person, "shares_history": person.consent_state == "given"},
    )
