"""Every route declares its rule; the access table and its object rules decide every answer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from dsr.actions import services as actions
from dsr.core import dates
from dsr.core.access import (
    ACCESS,
    OBJECT_RULES,
    PLACE_KWARG,
    Permission,
    Role,
    Rule,
    allows,
    limited_by_object_rule,
)
from dsr.core.models import AuditEvent
from dsr.people import services as people
from dsr.people.models import Person
from tests.factories import SYSTEM


def walk(patterns=None, prefix="", namespace=""):
    """(route, view name with namespace, pattern) for every URL in the URL conf."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), namespace + (entry.name or ""), entry


def concrete_url(name: str, route: str, *, place_id: int, ids: dict | None = None, **more):
    """The route filled in with a place and records: `ids` (or keywords) by URL argument,
    `person_id=`, `action_id=`...; an argument not given is filled with 0 (no record)."""
    given = {**(ids or {}), **more}
    kwargs: dict = {}
    for argument in re.findall(r"<id:(\w+)>", route):
        kwargs[argument] = place_id if argument == PLACE_KWARG else given.get(argument, 0)
    if "<str:token>" in route:
        kwargs["token"] = "no-such-set-up-link"
    if "<slug:provider>" in route:
        kwargs["provider"] = "no-such-provider"
    return reverse(name, kwargs=kwargs or None)


# Records a URL can name that are about one person (their pages audit a read of them).
PERSON_RECORDS = (
    "person_id",
    "action_id",
    "member_id",
    "allocation_id",
    "admission_id",
    "cetr_id",
    "item_id",  # an agenda item about the person
)


def is_person_route(route: str) -> bool:
    return any(f"<id:{argument}>" in route for argument in PERSON_RECORDS)


def is_record_route(route: str) -> bool:
    """A route naming a care record of a place: a person's, or a referral."""
    return is_person_route(route) or "<id:referral_id>" in route


def is_place_route(route: str) -> bool:
    return f"<id:{PLACE_KWARG}>" in route


def test_every_route_declares_an_access_rule():
    undeclared = [
        route for route, _name, entry in walk() if not hasattr(entry.callback, "access_rule")
    ]
    assert undeclared == [], f"Routes with no access rule: {undeclared}"


def test_every_permission_route_belongs_to_a_place():
    """A permission is a role's, and a role is held in a place: the place is in the URL."""
    for route, _name, entry in walk():
        if entry.callback.access_rule in (Rule.PERMISSION, Rule.MEMBER):
            assert is_place_route(route), route


def test_every_permission_rule_names_a_permission_in_the_table():
    granted = set().union(*ACCESS.values())
    for route, _name, entry in walk():
        if entry.callback.access_rule is Rule.PERMISSION:
            assert entry.callback.access_permission in granted, route


def test_every_role_has_an_entry_in_the_access_table():
    assert set(ACCESS) == set(Role)


def test_auditor_cannot_edit_care_data():
    care_writes = {Permission.ADD_PERSON, Permission.EDIT_PERSON, Permission.CLOSE_PERSON}
    assert not (ACCESS[Role.AUDITOR] & care_writes)


def test_every_object_rule_refines_a_permission_its_role_holds():
    for role, permission in OBJECT_RULES:
        assert permission in ACCESS[role], (role, permission)


@dataclass
class World:
    """Place A's person, in the partner's care network, with an action the partner owns
    and one the keyworker owns, the keyworker allocated, a referral waiting; in hospital,
    with a post-admission C(E)TR requested."""

    person: Person
    partners_action: object
    keyworkers_action: object
    member: object
    allocation: object
    keyworker: object
    other_keyworker: object
    referral: object
    administration: dict  # the place's own records its admin's pages name (membership_id...)
    admission: object
    cetr: object
    meeting: object  # a finished tracker meeting that discussed the person
    item: object
    attendee: object

    def ids(self, **chosen) -> dict:
        """Every record a URL can name, by its URL argument."""
        return {
            **self.administration,
            "person_id": self.person.pk,
            "action_id": self.keyworkers_action.pk,
            "member_id": self.member.pk,
            "allocation_id": self.allocation.pk,
            "keyworker_id": self.keyworker.pk,
            "referral_id": self.referral.pk,
            "admission_id": self.admission.pk,
            "cetr_id": self.cetr.pk,
            "meeting_id": self.meeting.pk,
            "item_id": self.item.pk,
            "attendee_id": self.attendee.pk,
            "place_ref": self.person.place_id,  # the public pages name their place so
            **{key: getattr(value, "pk", value) for key, value in chosen.items()},
        }

    def objects_for(self, route: str) -> list:
        """The objects whose object rules decide a route's answer (None: no rule applies)."""
        if "<id:action_id>" in route:
            return [("action_id", self.partners_action), ("action_id", self.keyworkers_action)]
        if "<id:keyworker_id>" in route:
            return [("keyworker_id", self.keyworker), ("keyworker_id", self.other_keyworker)]
        return [(None, None)]


def build_world(person, *, partner, keyworker) -> World:
    """One of every kind of record about `person`, for walks over every URL: `partner` in
    their care network, `keyworker` allocated."""
    from dsr.keywork import services as keywork
    from dsr.risk import services as risk
    from tests import factories

    people.add_network_member(
        person=person, name="Pat Partner", user=partner, started_on=dates.today(), by=SYSTEM
    )
    member = people.add_network_member(
        person=person, name="Sam SENCO", job_title="SENCO", started_on=dates.today(), by=SYSTEM
    )

    def action(owner):
        return actions.open_action(
            person=person,
            description="Do the thing",
            due_on=dates.today() + timedelta(days=3),
            source="other",
            owner_user=owner,
            by=SYSTEM,
        )

    risk.rate(person=person, rating="A", rationale="Escalating at home", by=SYSTEM)
    from dsr.places import services as places
    from dsr.places.models import Membership
    from dsr.risk.models import RiskFactor

    administration = {
        "membership_id": Membership.objects.filter(place=person.place).first().pk,
        "organisation_id": places.add_organisation(
            place=person.place, name=f"Walk Trust {person.pk}", kind="nhs_trust", by=SYSTEM
        ).pk,
        "factor_id": RiskFactor.objects.filter(place=person.place).first().pk,
    }
    from tests.hospital.factories import admit, request_cetr

    allocation = keywork.allocate_keyworker(person=person, keyworker=keyworker, by=SYSTEM)
    admission = admit(person)
    from dsr.meetings import services as meetings
    from dsr.meetings.models import Meeting
    from tests.meetings.factories import finish, item_for, prepared, start

    # One meeting a day in a place: a second world in the place meets the day before.
    held = Meeting.objects.filter(place=person.place).count()
    meeting = prepared(person.place, dates.today() - timedelta(days=held))
    attendee = meetings.add_attendee(meeting=meeting, name="Sam SENCO", by=SYSTEM)
    finish(start(meeting))
    return World(
        person=person,
        partners_action=action(partner),
        keyworkers_action=action(keyworker),
        member=member,
        allocation=allocation,
        keyworker=keyworker,
        other_keyworker=factories.make_user(place=person.place, role=Role.KEYWORKER),
        referral=factories.make_referral(person.place),
        administration=administration,
        admission=admission,
        cetr=request_cetr(person, kind="post_admission"),
        meeting=meeting,
        item=item_for(meeting, person),
        attendee=attendee,
    )


@pytest.fixture
def world(cast, person_a) -> World:
    return build_world(person_a, partner=cast[Role.PARTNER], keyworker=cast[Role.KEYWORKER])


@dataclass
class Holder:
    """A role held by a user: what an object rule looks at."""

    role: str
    user_id: int


def expected_answer(role: Role, user, route: str, entry, method: str, obj=None) -> set[int]:
    """What the access table (with its object rules, for `obj`) says this role gets."""
    rule = entry.callback.access_rule
    if "<str:token>" in route or "<slug:provider>" in route:
        return {404, 405}  # a set-up link or identity provider that does not exist
    if rule is not Rule.PERMISSION:
        return {200, 302, 405}
    holder = Holder(role.value, user.pk)
    allowed = allows(holder, entry.callback.access_permission, obj)
    if not allowed and obj is not None and method == "post":
        return {404, 405}  # a read-only page refuses the method before it looks at the record
    if not allowed:
        return {404}
    if obj is None and limited_by_object_rule(holder, entry.callback.access_permission):
        return {302, 405}  # the page of every object sends them to their own (a caseload)
    return {200, 302, 405} if method == "post" else {200}


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_exactly_what_the_access_table_allows(role, method, cast, client_for, world):
    client = client_for(role)
    for route, name, entry in walk():
        if name in ("accounts:sign_out", "switch_place"):
            continue  # would end this client's session; switching has its own tests
        for argument, obj in world.objects_for(route):
            chosen = {argument: obj} if argument else {}
            url = concrete_url(name, route, place_id=world.person.place_id, ids=world.ids(**chosen))
            denied_before = AuditEvent.objects.filter(action="denied").count()
            response = getattr(client, method)(url, {})
            expected = expected_answer(role, cast[role], route, entry, method, obj)
            assert response.status_code in expected, (role, method, url, response.status_code)
            if response.status_code == 404 and entry.callback.access_rule is Rule.PERMISSION:
                # every refused attempt leaves exactly one denied event
                assert AuditEvent.objects.filter(action="denied").count() == denied_before + 1, url


def test_the_object_rule_lets_a_partner_update_only_the_actions_they_own(client_for, world):
    client = client_for(Role.PARTNER)
    from tests.helpers import at

    assert client.get(at(world.partners_action, "actions:update")).status_code == 200
    assert client.get(at(world.keyworkers_action, "actions:update")).status_code == 404
    denied = AuditEvent.objects.filter(action="denied", person_id=world.person.pk).last()
    assert denied.changes["reason"] == "object rule: update_action"
    # and the person page links only the partner's own action
    page = client.get(at(world.person, "register:person")).content.decode()
    assert at(world.partners_action, "actions:update") in page
    assert at(world.keyworkers_action, "actions:update") not in page


@pytest.mark.parametrize("role", list(Role))
def test_every_place_page_of_a_place_the_user_is_not_in_is_a_404_and_audited(
    role, client_for, world, person_b
):
    """Place B's pages, asked for with place A's records: each refusal is filed with the
    place that holds the record the URL names (A's auditors see their own records tried
    through another place's address), or else with the place the URL names."""
    from dsr.core.access import _RECORDS

    client = client_for(role)
    for route, name, _entry in walk():
        if not is_place_route(route):
            continue
        url = concrete_url(name, route, place_id=person_b.place_id, ids=world.ids())
        names_a_record = any(f"<id:{kwarg}>" in route for kwarg in _RECORDS)
        held = world.person.place_id if names_a_record else person_b.place_id
        before = AuditEvent.objects.filter(action="denied", place_id=held).count()
        assert client.get(url).status_code == 404, url
        after = AuditEvent.objects.filter(action="denied", place_id=held).count()
        assert after == before + 1, url


@pytest.mark.parametrize("method", ["get", "post"])
def test_signed_out_visitors_are_sent_to_sign_in_from_every_protected_route(
    client, person_a, method
):
    for route, name, entry in walk():
        if entry.callback.access_rule is Rule.PUBLIC:
            continue
        url = concrete_url(name, route, place_id=person_a.place_id, person_id=person_a.pk)
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:sign_in")), url
    assert not Person.objects.exclude(pk=person_a.pk).exists()


def test_a_refusal_by_role_is_a_404_and_is_audited(client_for, person_a):
    from tests.helpers import at

    client = client_for(Role.AUDITOR)
    response = client.get(at(person_a, "register:person"))
    assert response.status_code == 404
    denied = AuditEvent.objects.filter(action="denied", person_id=person_a.pk)
    assert denied.count() == 1


def test_every_page_about_a_person_audits_the_read(client_for, world):
    client = client_for(Role.COORDINATOR)
    for route, name, entry in walk():
        if not is_person_route(route) or entry.callback.access_rule is not Rule.PERMISSION:
            continue
        viewed = AuditEvent.objects.filter(action="viewed", person_id=world.person.pk)
        before = viewed.count()
        url = concrete_url(name, route, place_id=world.person.place_id, ids=world.ids())
        assert client.get(url).status_code == 200, route
        assert viewed.count() == before + 1, route


@pytest.mark.parametrize(
    "path",
    [
        "/places/99999999999999999999999/people/",
        "/places/{place}/people/99999999999999999999/",
        "/places/{place}/people/99999999999999999999/rating/",
        "/places/{place}/people/99999999999999999999/access/",
        "/places/{place}/actions/99999999999999999999/",
    ],
)
@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.KEYWORKER, Role.AUDITOR])
def test_an_impossible_id_in_an_address_is_a_plain_404(role, client_for, place_a, path):
    response = client_for(role).get(path.format(place=place_a.pk))
    assert response.status_code == 404


def test_a_refusal_by_role_names_a_person_only_when_they_exist_and_files_it_with_their_place(
    client_for, place_a, person_b
):
    from tests.helpers import at

    client = client_for(Role.KEYWORKER)  # a keyworker may not rate anyone
    client.get(at(place_a, "risk:rate", person_b.pk))
    client.get(at(place_a, "risk:rate", 777_777))
    real, missing = AuditEvent.objects.filter(action="denied").order_by("id")
    assert (real.person_id, real.place_id) == (person_b.pk, person_b.place_id)
    assert (missing.person_id, missing.place_id) == (None, place_a.pk)


def test_the_place_admin_sees_no_care_data_on_any_page_they_may_open(client_for, cast, world):
    """DOMAIN.md: the place admin manages users, memberships and settings; they see no
    person, no referral, no audit of care. Every route they may open is walked: none shows
    the person's name or leaves a read of a person in the trail."""
    from dsr.core.models import AuditShown

    client = client_for(Role.PLACE_ADMIN)
    admin = Holder(Role.PLACE_ADMIN.value, cast[Role.PLACE_ADMIN].pk)
    opened = []
    for route, name, entry in walk():
        rule = entry.callback.access_rule
        if rule is Rule.PUBLIC or name in ("accounts:sign_out", "switch_place"):
            continue
        if rule is Rule.PERMISSION and not allows(admin, entry.callback.access_permission):
            continue
        url = concrete_url(name, route, place_id=world.person.place_id, ids=world.ids())
        about_people = AuditEvent.objects.filter(person_id__isnull=False).count()
        shown = AuditShown.objects.count()
        response = client.get(url, follow=True)
        body = response.content.decode()
        assert world.person.family_name not in body and world.person.given_name not in body, url
        assert AuditEvent.objects.filter(person_id__isnull=False).count() == about_people, url
        assert AuditShown.objects.count() == shown, url
        opened.append(name)
    assert {"places:users", "places:settings", "places:settings_edit"} <= set(opened)
