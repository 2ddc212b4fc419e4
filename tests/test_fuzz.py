"""Hypothesis drives every form with arbitrary and hostile input.

Never a 500; a rejected submission changes nothing (every care table and the audit
trail's writes prove it). A test below fails if a form is added without a fuzz entry.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsr.actions import services as actions
from dsr.actions.models import Action, ActionUpdate
from dsr.core import dates
from dsr.core.access import ACCESS, Role, Rule
from dsr.core.models import AuditEvent
from dsr.hospital.models import Admission, OversightVisit
from dsr.people.models import NetworkMember, Person
from dsr.places.models import Membership
from dsr.reviews.models import Cetr, Recommendation
from dsr.risk.models import Rating, RatingFactor, Review, Signal, SignificantEvent
from tests.core.test_access import concrete_url, walk
from tests.factories import SYSTEM
from tests.helpers import READS, at
from tests.people.test_views import form_data

HOSTILE = [
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\x00",
    "﷽" * 50,
    "9" * 5000,
    "99999999999999999999",
    "٣",
    "³",
    "../../etc/passwd",
    "{{ 7*7 }}",
    "%s%s%n",
    "-1",
    "2147483648",
    "",
    " ",
]
values = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=300), st.integers().map(str))


def dated(prefix: str) -> list[str]:
    return [f"{prefix}_day", f"{prefix}_month", f"{prefix}_year"]


PERSON_FIELDS = [*form_data().keys(), "version", "loaded", "confirm_not_duplicate", "place", "id"]
ADMISSION_FIELDS = [
    "hospital",
    "provider",
    "provider_sector",
    "ward_type",
    "legal_status",
    *dated("admitted_on"),
    "distance_miles",
    "out_of_area",
    "on_register_before",
    "delayed_discharge",
    "delay_reason",
]
RATING_FIELDS = ["rating", "rationale", "factors"]
# Every form a user can send, by URL name: the fields a hostile post draws from.
FORMS = {
    "register:add": PERSON_FIELDS,
    "people:edit": PERSON_FIELDS,
    "people:close": ["closure_reason", *dated("closed_on"), "closure_note", "version"],
    "switch_place": ["place"],
    "risk:rate": [*RATING_FIELDS, *dated("decided_on"), "context"],
    "risk:review": [
        *RATING_FIELDS,
        *dated("held_on"),
        "participants",
        "summary",
        "action_description",
        "action_owner",
        *dated("action_due"),
    ],
    "risk:event_new": ["kind", *dated("occurred_on"), "description"],
    "actions:new": [
        "description",
        "owner_user",
        "owner_name",
        "owner_organisation",
        *dated("due_on"),
    ],
    "actions:update": ["status", "note", "version"],
    "risk:prompts": ["action", "reason", "version"],
    "register:transition": ["transition"],
    "hospital:admit": ADMISSION_FIELDS,
    "hospital:edit": [*ADMISSION_FIELDS, "version"],
    "hospital:discharge": [*dated("discharged_on"), "discharge_destination", "version"],
    "hospital:visit_new": [*dated("visited_on"), "visited_by", "findings"],
    "hospital:red_lift": ["red_lifted_reason", "version"],
    "reviews:request": ["kind", *dated("requested_on"), "reason"],
    "reviews:details": [
        *dated("scheduled_for"),
        "chair",
        "clinical_expert",
        "expert_by_experience",
        "other_panel",
        "attendees",
        "consent_basis",
        "consent_given_by",
        *dated("consent_on"),
        "version",
    ],
    "reviews:hold": [*dated("held_on"), "summary", "version"],
    "reviews:report": [*dated("report_issued_on"), "version"],
    "reviews:cancel": ["cancel_reason", "version"],
    "reviews:recommend": [
        "description",
        "owner_user",
        "owner_name",
        "owner_organisation",
        *dated("due_on"),
    ],
}
# The sign-in forms, fuzzed signed out (test_hostile_sign_in_input_never_errors).
SIGN_IN_FORMS = {"accounts:sign_in", "accounts:verify", "accounts:enrol", "accounts:sign_out"}
FUZZ = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
CARE_TABLES = [
    Person,
    NetworkMember,
    Rating,
    RatingFactor,
    Review,
    SignificantEvent,
    Signal,
    Action,
    ActionUpdate,
    Membership,
    Admission,
    OversightVisit,
    Cetr,
    Recommendation,
]


def snapshot():
    return (
        [list(model.objects.order_by("pk").values()) for model in CARE_TABLES],
        AuditEvent.objects.exclude(action__in=READS).count(),
    )


def test_every_form_is_fuzzed(client_for, person_a, action_a):
    """Every route that takes a POST (read-only pages answer 405) has an entry above."""
    forms = set()
    for route, name, entry in walk():
        if name in SIGN_IN_FORMS or entry.callback.access_rule is Rule.PUBLIC:
            continue
        permission = entry.callback.access_permission
        role = next(r for r in Role if permission is None or permission in ACCESS[r])
        coordinator = client_for(role)
        url = concrete_url(
            name, route, place_id=person_a.place_id, person_id=person_a.pk, action_id=action_a.pk
        )
        if coordinator.post(url, {}).status_code != 405:
            forms.add(name)
    assert forms == set(FORMS)


@pytest.fixture
def action_a(person_a, cast):
    return actions.open_action(
        person=person_a,
        description="Phone the family",
        due_on=dates.today() + timedelta(days=2),
        source="other",
        owner_user=cast[Role.COORDINATOR],
        by=SYSTEM,
    )


@pytest.fixture
def stay_a(place_a):
    """Someone in hospital, with a post-admission C(E)TR arranged (consent and panel)."""
    from tests import factories
    from tests.hospital.factories import admit, arrange, request_cetr

    inpatient = factories.make_person(place_a, given_name="Ines")
    stay = admit(inpatient)
    arrange(request_cetr(inpatient, kind="post_admission"))
    return stay


def url_for_form(name: str, person, action, stay=None) -> str:
    if name == "switch_place":
        return reverse(name)
    if name == "register:add":
        return at(person.place, name)
    if name == "actions:update":
        return at(action, name)
    if name.startswith("hospital:") and name != "hospital:admit":
        return at(stay, name)
    if name.startswith("reviews:") and name != "reviews:request":
        return at(stay.cetrs.get(), name)
    return at(person, name)


# Valid submissions the hostile values are drawn over, so that some get past the form and
# reach the service (whose refusals must write nothing too).
def base_for(name: str) -> dict:
    if name == "hospital:admit":
        today = dates.today()
        return {
            "hospital": "Riverside",
            "provider": "Riverside NHS Trust",
            "provider_sector": "nhs",
            "ward_type": "picu",
            "legal_status": "s2",
            "admitted_on_day": today.day,
            "admitted_on_month": today.month,
            "admitted_on_year": today.year,
            "out_of_area": "no",
            "on_register_before": "yes",
        }
    if name == "reviews:request":
        today = dates.today()
        return {
            "kind": "community",
            "requested_on_day": today.day,
            "requested_on_month": today.month,
            "requested_on_year": today.year,
        }
    return {}


@pytest.mark.parametrize("name", list(FORMS))
@FUZZ
@given(data=st.data())
def test_hostile_form_input_never_errors_and_a_rejection_writes_nothing(
    name, data, coordinator, person_a, action_a, stay_a
):
    fields = FORMS[name]
    base = form_data() if fields is PERSON_FIELDS else base_for(name)
    posted = {
        **base,
        **data.draw(st.dictionaries(st.sampled_from(fields), values, max_size=len(fields))),
    }
    before = snapshot()
    response = coordinator.post(url_for_form(name, person_a, action_a, stay_a), posted)
    assert response.status_code in {200, 302, 404}, response.status_code
    if response.status_code != 302:
        assert snapshot() == before


@FUZZ
@given(
    sign_in=st.dictionaries(st.sampled_from(["email", "password", "next"]), values),
    code=values,
)
def test_hostile_sign_in_input_never_errors(sign_in, code, client, cast):
    response = client.post(reverse("accounts:sign_in"), sign_in)
    assert response.status_code in {200, 302, 429}
    for step in ("accounts:verify", "accounts:enrol"):
        response = client.post(reverse(step), {"code": code})
        assert response.status_code in {200, 302}


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["q", "status", "sort", "rating", "review", "page"]), values
    ),
    audit_params=st.dictionaries(st.sampled_from(["who", "person", "action", "page"]), values),
)
def test_hostile_search_parameters_never_error(params, audit_params, client_for, person_a):
    clean = {k: v.replace("\x00", "") for k, v in params.items()}
    response = client_for(Role.COORDINATOR).get(at(person_a.place, "register:list"), clean)
    assert response.status_code == 200
    clean = {k: v.replace("\x00", "") for k, v in audit_params.items()}
    response = client_for(Role.AUDITOR).get(at(person_a.place, "audit_search"), clean)
    assert response.status_code == 200
