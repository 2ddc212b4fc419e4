"""Hypothesis drives every form with arbitrary and hostile input.

Never a 500; a rejected submission changes nothing (every care table and the audit
trail's writes prove it). A test below fails if a form is added without a fuzz entry.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsr.actions.models import Action, ActionUpdate
from dsr.consent.models import Consent, ConsentOrganisation, Withdrawal
from dsr.core import dates
from dsr.core.access import ACCESS, Role, Rule
from dsr.core.models import AuditEvent
from dsr.hospital.models import Admission, OversightVisit
from dsr.keywork.models import Allocation, Contact
from dsr.meetings.models import AgendaItem, Attendee, Meeting, MeetingAction
from dsr.people.models import Circumstance, NetworkMember, Person
from dsr.places.models import Membership
from dsr.referrals.models import Referral, ReferralDecision
from dsr.reviews.models import Cetr, Recommendation
from dsr.risk.models import Rating, RatingFactor, Review, Signal, SignificantEvent
from tests.core.test_access import build_world, concrete_url, walk
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
PROFESSIONAL_FIELDS = ["name", "job_title", "organisation", "user", "is_lead", "phone", "email"]
FAMILY_FIELDS = ["name", "relationship", "parental_responsibility", "phone", "email"]
REFERRAL_FIELDS = [
    *dated("received_on"),
    "referrer_name",
    "referrer_role",
    "referrer_organisation",
    "referrer_phone",
    "referrer_email",
    "given_name",
    "family_name",
    *dated("date_of_birth"),
    "nhs_number",
    "postcode",
    "reason",
    "current_risks",
    "consent_obtained",
    "consent_from",
]
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
MEETING_DECISION_FIELDS = [
    "notes",
    "outcome",
    "rating",
    "rationale",
    *dated("next_review_on"),
    "version",
    *(
        f"action_{i}_{part}"
        for i in range(3)
        for part in ("description", "owner_user", "owner_name")
    ),
    *dated("action_0_due_on"),
]
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
    "consent:new": [
        "given_by",
        "consenter",
        "basis",
        "share_with",
        *dated("given_on"),
        "evidence",
        "evidence_note",
    ],
    "consent:withdraw": ["withdrawn_by", *dated("withdrawn_on"), "note"],
    "people:network_professional_new": [*PROFESSIONAL_FIELDS, *dated("started_on")],
    "people:network_family_new": [*FAMILY_FIELDS, *dated("started_on")],
    "people:network_edit": [*PROFESSIONAL_FIELDS, *FAMILY_FIELDS, "version"],
    "people:network_end": [*dated("ended_on"), "version"],
    "people:circumstance_new": ["area", "standing", "note", *dated("recorded_on")],
    "keywork:allocate": ["keyworker", *dated("started_on")],
    "keywork:allocation_end": [*dated("ended_on"), "end_reason", "version"],
    "keywork:contact_new": [
        *dated("contacted_on"),
        "kind",
        "with_whom",
        "summary",
        *(f for n in (1, 2) for f in (f"follow_up_{n}", f"follow_up_{n}_owner")),
        *dated("follow_up_1_due"),
    ],
    "referrals:new": REFERRAL_FIELDS,
    "referrals:first_contact": [*dated("contacted_on"), "communicated", "note", "version"],
    "referrals:more_information": ["note", "communicated", *dated("decided_on"), "version"],
    "referrals:decline": ["note", "communicated", *dated("decided_on"), "version"],
    "referrals:accept": [*PERSON_FIELDS, *RATING_FIELDS, "action", "person", "note"],
    "referrals:transfer": ["to_place", "note", "version"],
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
    "meetings:new": [*dated("held_on"), "venue", "chair", "minute_taker"],
    "meetings:edit": [*dated("held_on"), "venue", "chair", "minute_taker", "version"],
    "meetings:attendee_new": ["user", "name", "job_title", "organisation"],
    "meetings:attendee_absent": ["absent"],
    "meetings:prepare": ["version"],
    "meetings:start": ["version"],
    "meetings:finish": ["version"],
    "meetings:item_new": ["person", "reason"],
    "meetings:item_remove": ["reason", "version"],
    "meetings:item": MEETING_DECISION_FIELDS,
}
# The place admin's forms, fuzzed as the place admin (test_hostile_admin_input_...).
ADMIN_FORMS = {
    "places:settings_edit": None,  # every setting's name (filled in below), and:
    "places:organisations": ["name", "kind"],
    "places:organisation_edit": ["name", "kind", "is_active"],
    "places:invite": ["email", "full_name", "job_title", "role", "organisation"],
    "places:member": ["role", "organisation", "expected_role"],
    "places:member_remove": ["confirm"],
    "places:member_deactivate": ["confirm"],
    "places:member_reactivate": ["confirm"],
    "places:member_reset": ["confirm"],
    "places:member_unlock": ["confirm"],
    "places:member_resend": ["confirm"],
    "riskfactors:list": ["label", "direction", "factor"],
    "riskfactors:edit": ["label", "is_active"],
}
# The sign-in forms, fuzzed signed out (test_hostile_sign_in_input_never_errors).
SIGN_IN_FORMS = {"accounts:sign_in", "accounts:verify", "accounts:enrol", "accounts:sign_out"}
# A signed-in user's own account forms (test_hostile_account_input_...).
ACCOUNT_FORMS = {"accounts:change_authenticator": ["new", "current"]}
FUZZ = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
CARE_TABLES = [
    Person,
    NetworkMember,
    Circumstance,
    Consent,
    ConsentOrganisation,
    Withdrawal,
    Allocation,
    Contact,
    Referral,
    ReferralDecision,
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
    Meeting,
    Attendee,
    AgendaItem,
    MeetingAction,
]


def snapshot():
    return (
        [list(model.objects.order_by("pk").values()) for model in CARE_TABLES],
        AuditEvent.objects.exclude(action__in=READS).count(),
    )


# Public forms, fuzzed signed out (test_hostile_public_referrals_never_error).
PUBLIC_FORMS = {"public:refer"}


def test_every_form_is_fuzzed(client_for, world):
    """Every route that takes a POST (read-only pages answer 405) has an entry above."""
    forms = set()
    for route, name, entry in walk():
        if name in SIGN_IN_FORMS | PUBLIC_FORMS or entry.callback.access_rule is Rule.PUBLIC:
            continue  # fuzzed signed out, below
        permission = entry.callback.access_permission
        role = next(r for r in Role if permission is None or permission in ACCESS[r])
        url = concrete_url(name, route, place_id=world.person.place_id, ids=world.ids())
        if client_for(role).post(url, {}).status_code != 405:
            forms.add(name)
    assert forms == set(FORMS) | set(ADMIN_FORMS) | set(ACCOUNT_FORMS)


@pytest.fixture
def world(cast, person_a):
    return build_world(person_a, partner=cast[Role.PARTNER], keyworker=cast[Role.KEYWORKER])


ROUTES = {name: route for route, name, _entry in walk()}


def url_for_form(name: str, world) -> str:
    return concrete_url(name, ROUTES[name], place_id=world.person.place_id, ids=world.ids())


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
    name, data, coordinator, world
):
    fields = FORMS[name]
    base = form_data() if fields is PERSON_FIELDS else base_for(name)
    posted = {
        **base,
        **data.draw(st.dictionaries(st.sampled_from(fields), values, max_size=len(fields))),
    }
    before = snapshot()
    response = coordinator.post(url_for_form(name, world), posted)
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
    fields=st.dictionaries(st.sampled_from(ACCOUNT_FORMS["accounts:change_authenticator"]), values)
)
def test_hostile_account_input_never_errors_nor_changes_the_authenticator(fields, client_for, cast):
    client = client_for(Role.KEYWORKER)
    before = list(
        TOTPDevice.objects.filter(user=cast[Role.KEYWORKER]).values_list("key", flat=True)
    )
    response = client.post(reverse("accounts:change_authenticator"), fields)
    assert response.status_code in {200, 429}
    after = list(TOTPDevice.objects.filter(user=cast[Role.KEYWORKER]).values_list("key", flat=True))
    assert after == before


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


SELF_REFERRAL_FIELDS = [
    "referrer_name",
    "referrer_role",
    "referrer_phone",
    "referrer_email",
    "given_name",
    "family_name",
    *dated("date_of_birth"),
    "nhs_number",
    "postcode",
    "reason",
    "current_risks",
    "agree",
    "website",
]


@FUZZ
@given(posted=st.dictionaries(st.sampled_from(SELF_REFERRAL_FIELDS), values))
def test_hostile_public_referrals_never_error_and_a_rejection_writes_nothing(
    posted, client, place_a
):
    place_a.settings.parent_self_referral = True
    place_a.settings.save()
    before = snapshot()
    response = client.post(reverse("public:refer", args=[place_a.pk]), posted)
    assert response.status_code in {200, 302, 429}, response.status_code
    if response.status_code != 302 or posted.get("website", "").strip():
        assert snapshot() == before


def _admin_fields(name: str) -> list[str]:
    from dsr.places.policy import policy_fields

    if name == "places:settings_edit":
        return [f.name for f in policy_fields()] + ["version", "confirm", "back"]
    return ADMIN_FORMS[name]


def admin_snapshot():
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from dsr.accounts.models import EnrolmentLink, User
    from dsr.core.models import OutgoingEmail
    from dsr.places.models import Organisation, PlaceSettings
    from dsr.risk.models import RiskFactor

    tables = [Membership, Organisation, PlaceSettings, RiskFactor, EnrolmentLink, TOTPDevice]
    return (
        [list(model.objects.order_by("pk").values()) for model in tables],
        list(User.objects.order_by("pk").values("email", "is_active", "password")),
        OutgoingEmail.objects.count(),
        AuditEvent.objects.exclude(action__in=READS).count(),
    )


def admin_url(name: str, place, world_ids) -> str:
    from tests.core.test_access import concrete_url

    route = next(r for r, n, _e in walk() if n == name)
    return concrete_url(name, route, place_id=place.pk, person_id=0, ids=world_ids)


@pytest.fixture
def admin_ids(cast, place_a) -> dict:
    """The records the admin's pages are about: a member, an organisation, a risk factor."""
    from dsr.places import services as places
    from dsr.risk.models import RiskFactor

    return {
        "membership_id": Membership.objects.get(user=cast[Role.KEYWORKER]).pk,
        "organisation_id": places.add_organisation(
            place=place_a, name="Fuzz Trust", kind="nhs_trust", by=SYSTEM
        ).pk,
        "factor_id": RiskFactor.objects.filter(place=place_a).first().pk,
    }


@pytest.mark.parametrize("name", list(ADMIN_FORMS))
@FUZZ
@given(data=st.data())
def test_hostile_admin_input_never_errors_and_a_rejection_writes_nothing(
    name, data, client_for, place_a, admin_ids
):
    fields = _admin_fields(name)
    posted = data.draw(st.dictionaries(st.sampled_from(fields), values, max_size=len(fields)))
    client = client_for(Role.PLACE_ADMIN)
    before = admin_snapshot()
    response = client.post(admin_url(name, place_a, admin_ids), posted)
    assert response.status_code in {200, 302, 404}, response.status_code
    if response.status_code != 302:
        assert admin_snapshot() == before


@FUZZ
@given(fields=st.dictionaries(st.sampled_from(["password", "again"]), values))
def test_hostile_invitation_input_never_errors(fields, client, cast, place_a):
    from dsr.places import team

    email = f"fuzz{AuditEvent.objects.count()}@example.org"
    invited = team.invite_user(
        place=place_a, email=email, full_name="Fuzz", role="viewer", by=SYSTEM
    )
    url = reverse("accounts:setup_link", args=[invited.token])
    response = client.post(url, fields)
    assert response.status_code in {200, 302}
    client.get(reverse("accounts:oidc_callback", args=["cis2"]), fields)
