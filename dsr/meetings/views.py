"""The monthly tracker meeting's pages: the list, preparing one (details, attendees, the
agenda), and running it person by person (issue 11).

Views load through the door, check, call one service, redirect.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods, require_safe

from dsr.accounts.models import User
from dsr.actions.services import possible_owners
from dsr.core import dates
from dsr.core.access import Permission, allows, requires
from dsr.core.door import Viewer
from dsr.core.forms import MOVES_ON, add_service_error, changed_meanwhile, posted
from dsr.core.models import StaleVersion
from dsr.core.once import SENT_ALREADY, once
from dsr.core.routing import RecordId, redirect_to
from dsr.meetings import presenters, services
from dsr.meetings.forms import AttendeeForm, ConfirmForm, DiscussionForm, MeetingForm, ReasonForm
from dsr.meetings.models import AgendaItem, Attendee, Meeting, MeetingStatus
from dsr.meetings.scoping import AGENDA, get_meeting, meetings_of, team_of
from dsr.people.scoping import PEOPLE
from dsr.places.services import organisations_of
from dsr.risk.rules import review_due

STALE = (
    "Someone else changed this meeting while you were working. Check what it now says, "
    "then try again"
)
PURPOSE = "tracker meeting"
SHOWN = 24  # meetings a page


@requires(Permission.VIEW_MEETINGS)
@require_safe
def meeting_list(request: HttpRequest) -> HttpResponse:
    viewer = Viewer.of(request)
    today = dates.today()
    meetings = list(meetings_of(viewer).order_by("-held_on")[:SHOWN])
    return render(
        request,
        "meetings/list.jinja",
        {
            "coming": sorted((m for m in meetings if m.held_on >= today), key=lambda m: m.held_on),
            "past": [m for m in meetings if m.held_on < today],
            "may_run": allows(viewer.membership, Permission.RUN_MEETING),
        },
    )


def _meeting_form(request: HttpRequest, viewer: Viewer, meeting: Meeting | None) -> MeetingForm:
    initial: dict[str, Any] = {"held_on": dates.today()}
    if meeting is not None:
        initial = {
            "held_on": meeting.held_on,
            "venue": meeting.venue,
            "chair": meeting.chair_id,
            "minute_taker": meeting.minute_taker_id,
            "version": meeting.version,
        }
    return MeetingForm(posted(request), initial=initial, team=team_of(viewer))


@requires(Permission.RUN_MEETING)
@require_http_methods(["GET", "POST"])
def meeting_new(request: HttpRequest) -> HttpResponse:
    viewer = Viewer.of(request)
    form = _meeting_form(request, viewer, None)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.schedule_meeting(
                place=request.place,  # type: ignore[attr-defined]
                held_on=form.cleaned_data["held_on"],
                venue=form.cleaned_data["venue"],
                chair=form.cleaned_data["chair"],
                minute_taker=form.cleaned_data["minute_taker"],
                by=viewer.context,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"{meeting} scheduled. Prepare its agenda when you are ready")
            return redirect_to(request, "meetings:meeting", meeting.pk)
    return render(request, "meetings/meeting_form.jinja", {"form": form, "meeting": None})


@requires(Permission.RUN_MEETING)
@require_http_methods(["GET", "POST"])
def meeting_edit(request: HttpRequest, meeting_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    meeting = get_meeting(viewer, meeting_id)
    form = _meeting_form(request, viewer, meeting)
    if meeting.is_frozen:
        form.fields["held_on"].disabled = True
    if request.method == "POST" and form.is_valid():
        try:
            services.update_meeting(
                meeting=meeting,
                expected_version=form.cleaned_data["version"] or 0,
                held_on=form.cleaned_data["held_on"],
                venue=form.cleaned_data["venue"],
                chair=form.cleaned_data["chair"],
                minute_taker=form.cleaned_data["minute_taker"],
                by=viewer.context,
            )
        except StaleVersion:
            saved = get_meeting(viewer, meeting_id)
            changed_meanwhile(form, saved, _meeting_form(request, viewer, saved).initial)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Meeting details saved")
            return redirect_to(request, "meetings:meeting", meeting.pk)
    return render(request, "meetings/meeting_form.jinja", {"form": form, "meeting": meeting})


@requires(Permission.VIEW_MEETINGS)
@require_safe
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    meeting = get_meeting(viewer, meeting_id)
    return render(
        request,
        "meetings/meeting.jinja",
        presenters.meeting_page(viewer, meeting, request.GET.get("page")),
    )


@requires(Permission.RUN_MEETING)
@require_http_methods(["GET", "POST"])
def attendee_new(request: HttpRequest, meeting_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    meeting = get_meeting(viewer, meeting_id)
    form = AttendeeForm(
        posted(request),
        team=team_of(viewer),
        organisations=organisations_of(request.place),  # type: ignore[attr-defined]
    )
    if request.method == "POST" and form.is_valid():
        given = {name: value for name, value in form.cleaned_data.items() if name != "once"}
        try:
            with once(form) as first:
                if first:
                    services.add_attendee(meeting=meeting, by=viewer.context, **given)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Attendee added" if first else SENT_ALREADY)
            return redirect_to(request, "meetings:meeting", meeting.pk)
    return render(request, "meetings/attendee_new.jinja", {"form": form, "meeting": meeting})


@requires(Permission.RUN_MEETING)
@require_http_methods(["GET", "POST"])
def attendee_absent(request: HttpRequest, meeting_id: int, attendee_id: int) -> HttpResponse:
    """Mark an attendee as not attending (or attending after all): kept, never deleted."""
    viewer = Viewer.of(request)
    meeting = get_meeting(viewer, meeting_id)
    attendee = Attendee.objects.filter(meeting=meeting, pk=attendee_id).first()
    if attendee is None:
        raise Http404("Not found")
    if request.method == "GET":
        return _confirm_page(
            request,
            meeting,
            heading="Mark as attending" if attendee.absent else "Mark as not attending",
            explain=[f"{attendee.label}."],
            submit="Mark as attending" if attendee.absent else "Mark as not attending",
            fields={"absent": "no" if attendee.absent else "yes"},
        )
    try:
        services.mark_absent(
            attendee=attendee, absent=request.POST.get("absent") == "yes", by=viewer.context
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect_to(request, "meetings:meeting", meeting.pk)


def _confirm_page(
    request: HttpRequest,
    meeting: Meeting,
    *,
    heading: str,
    explain: list[str],
    submit: str,
    fields: dict[str, Any] | None = None,
) -> HttpResponse:
    return render(
        request,
        "meetings/confirm.jinja",
        {
            "meeting": meeting,
            "heading": heading,
            "explain": explain,
            "submit": submit,
            "fields": {"version": meeting.version} if fields is None else fields,
        },
    )


# What each one-button step says before it is taken: (heading, explanation, button).
STEPS = {
    "prepare": (
        "Prepare the agenda",
        [
            "The register puts on the agenda everyone it says should be discussed, each "
            "with the reason: everyone Red or Blue, Amber people whose review falls due, "
            "C(E)TRs due or overdue, overdue actions and recommendations, admissions and "
            "discharges, people referred, added or closed since the last meeting, people "
            "approaching 18 or 25, early warnings, and what the last meeting left open.",
            "Bringing it up to date later keeps the people you added or took off.",
        ],
        "Prepare the agenda",
    ),
    "start": (
        "Start the meeting",
        [
            "The agenda is frozen once the meeting starts: no one can be added or taken off.",
            "You go straight to the first person on the agenda.",
        ],
        "Start the meeting",
    ),
    "finish": (
        "Finish the meeting",
        [
            "Its minutes are then ready to share. People not reached are carried to the "
            "next meeting's agenda.",
        ],
        "Finish the meeting",
    ),
}


def _confirmed(
    request: HttpRequest, meeting_id: int, act: Any, done: str, *, step: str, to_item: bool = False
) -> HttpResponse:
    """A one-button step (prepare, start, finish): a GET asks, a POST calls the service
    and goes back to the meeting (or on to its first person)."""
    viewer = Viewer.of(request)
    meeting = get_meeting(viewer, meeting_id)
    if request.method == "GET":
        heading, explain, submit = STEPS[step]
        return _confirm_page(request, meeting, heading=heading, explain=explain, submit=submit)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, STALE)
        return redirect_to(request, "meetings:meeting", meeting.pk)
    try:
        act(meeting, form.cleaned_data["version"], viewer)
    except StaleVersion:
        messages.error(request, STALE)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
        if to_item:
            first = presenters.first_item(viewer, meeting)
            if first is not None:
                return redirect_to(request, "meetings:item", meeting.pk, first)
    return redirect_to(request, "meetings:meeting", meeting.pk)


@requires(Permission.RUN_MEETING)
@require_http_methods(["GET", "POST"])
def agenda_prepare(request: HttpRequest, meeting_id: int) -> HttpResponse:
    def act(meeting: Meeting, version: int, viewer: Viewer) -> Any:
        if meeting.version != version:
            raise StaleVersion()
        return services.prepare_agenda(meeting=meeting, by=viewer.context)

    return _confirmed(request, meeting_id, act, "Agenda prepared from the register", step="prepare")


@requires(Permission.RUN_MEETING)
@require_http_methods(["GET", "POST"])
def meeting_start(request: HttpRequest, meeting_id: int) -> HttpResponse:
    return _confirmed(
        request,
        meeting_id,
        lambda meeting, version, viewer: services.start_meeting(
            meeting=meeting, expected_version=version, by=viewer.context
        ),
        "Meeting started: the agenda is frozen",
        step="start",
        to_item=True,
    )


@requires(Permission.RUN_MEETING)
@require_http_methods(["GET", "POST"])
def meeting_finish(request: HttpRequest, meeting_id: int) -> HttpResponse:
    return _confirmed(
        request,
        meeting_id,
        lambda meeting, version, viewer: services.finish_meeting(
            meeting=meeting, expected_version=version, by=viewer.context
        ),
        "Meeting finished: its minutes are ready",
        step="finish",
    )


@requires(Permission.RUN_MEETING)
@require_http_methods(["GET", "POST"])
def item_new(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Add someone to the agenda, from their record ("Add to the agenda")."""
    viewer = Viewer.of(request)
    meeting = get_meeting(viewer, meeting_id)
    person_id = request.POST.get("person") or request.GET.get("person") or ""
    if not person_id:
        # Someone is added from their record; this page says so (and how to find them).
        return render(request, "meetings/item_choose.jinja", {"meeting": meeting})
    if not re.fullmatch(RecordId.regex, person_id):  # as an id in an address is read
        raise Http404("Not found")
    person = PEOPLE.get(viewer, int(person_id), purpose="agenda item form")
    form = ReasonForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.add_item(
                meeting=meeting,
                person=person,
                reason=form.cleaned_data["reason"],
                by=viewer.context,
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"{person.full_name} added to the agenda")
            return redirect_to(request, "meetings:meeting", meeting.pk)
    return render(
        request, "meetings/item_new.jinja", {"form": form, "meeting": meeting, "person": person}
    )


@requires(Permission.RUN_MEETING)
@require_http_methods(["GET", "POST"])
def item_remove(request: HttpRequest, meeting_id: int, item_id: int) -> HttpResponse:
    viewer = Viewer.of(request)
    meeting = get_meeting(viewer, meeting_id)
    item = _item(viewer, meeting, item_id, purpose="agenda item removal form")
    form = ReasonForm(posted(request), initial={"version": item.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.remove_item(
                item=item,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"] or 0,
                by=viewer.context,
            )
        except StaleVersion:
            changed_meanwhile(form, item, MOVES_ON)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, "Taken off the agenda")
            return redirect_to(request, "meetings:meeting", meeting.pk)
    return render(
        request,
        "meetings/item_remove.jinja",
        {"form": form, "meeting": meeting, "item": presenters.line(viewer, item)},
    )


def _interval_review(item: AgendaItem, meeting: Meeting) -> Any:
    """When the place's interval for the current rating would put the next review."""
    person = item.person
    if person is None or not person.current_rating:
        return None
    return review_due(meeting.place.settings, person.current_rating, meeting.held_on)


def _why_not(viewer: Viewer, meeting: Meeting, item: AgendaItem) -> str:
    if not allows(viewer.membership, Permission.RUN_MEETING):
        return "The coordinator records the meeting's decisions"
    if meeting.status != MeetingStatus.IN_PROGRESS:
        return services.NOT_RUNNING
    if item.removed:
        return "They were taken off the agenda before the meeting"
    return "The meeting's decision about them is recorded already"


def _item(viewer: Viewer, meeting: Meeting, item_id: int, *, purpose: str) -> AgendaItem:
    item = AGENDA.get(viewer, item_id, purpose=purpose)
    if item.meeting_id != meeting.pk:
        raise Http404("Not found")
    return item


@requires(Permission.VIEW_MEETINGS)
@require_http_methods(["GET", "POST"])
def item_discuss(request: HttpRequest, meeting_id: int, item_id: int) -> HttpResponse:
    """One person in the meeting: what is known, and the form for what is decided. Saving
    goes straight on to the next person on the agenda."""
    viewer = Viewer.of(request)
    meeting = get_meeting(viewer, meeting_id)
    item = _item(viewer, meeting, item_id, purpose=PURPOSE)
    may_record = (
        allows(viewer.membership, Permission.RUN_MEETING)
        and meeting.status == MeetingStatus.IN_PROGRESS
        and not item.removed
        and not item.is_discussed
    )
    if request.method == "POST" and not may_record:
        messages.error(request, _why_not(viewer, meeting, item))
        return redirect_to(request, "meetings:item", meeting.pk, item.pk)
    form = None
    if may_record:
        users = possible_owners(item.person) if item.person_id else User.objects.none()
        form = DiscussionForm(
            posted(request),
            users=users,
            referral=item.person_id is None,
            initial={
                "version": item.version,
                "rating": item.person.current_rating if item.person_id else "",
                "outcome": "confirmed",
                "next_review_on": _interval_review(item, meeting),
            },
        )
        if "next_review_on" in form.fields:
            form.fields["next_review_on"].help_text = (
                "Filled in by the place's review interval for their current rating; "
                "change it to when the meeting wants to look again"
            )
    page = presenters.item_page(viewer, meeting, item)
    if request.method == "POST" and form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_discussion(
                item=item,
                expected_version=data["version"],
                notes=data["notes"],
                outcome=data.get("outcome", ""),
                rating=data.get("rating", ""),
                rationale=data.get("rationale", ""),
                next_review_on=data.get("next_review_on"),
                agreed=form.agreed(),
                by=viewer.context,
            )
        except StaleVersion:
            changed_meanwhile(form, item, MOVES_ON)
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Decision recorded for {page['identity'].name}")
            following = page["next_item"]
            if following is not None:
                return redirect_to(request, "meetings:item", meeting.pk, following)
            return redirect_to(request, "meetings:meeting", meeting.pk)
    return render(request, "meetings/item.jinja", {**page, "form": form})
