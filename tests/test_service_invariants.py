"""Services own their invariants (DESIGN.md principle 3): whoever calls them — a view, a
command, the demo loader, the API to come — gets the form's checks and messages, the
change derived from the locked row, and nothing written on a refusal."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections  # noqa: F401 - `connection` names the skipif engine

from dsr.actions import services as actions
from dsr.actions.models import Action
from dsr.core import audit, dates
from dsr.core.access import Role
from dsr.core.models import AuditEvent
from dsr.core.verify import verify
from dsr.people import services as people
from dsr.people.models import Person
from dsr.places import services as places
from dsr.places.models import OrganisationKind
from dsr.register.services import add_to_register
from dsr.risk import services as risk
from dsr.risk.models import Rating, RiskFactor, SignificantEvent
from tests import factories
from tests.factories import SYSTEM, person_data
from tests.helpers import READS, until_someone_waits_on_a_lock


class Unchanged:
    """Nothing written: no care row, no audit event other than reads and refusals."""

    def __enter__(self):
        self.before = self.state()
        return self

    @staticmethod
    def state():
        return (
            list(Person.objects.order_by("id").values()),
            Rating.objects.count(),
            SignificantEvent.objects.count(),
            list(Action.objects.order_by("id").values()),
            AuditEvent.objects.exclude(action__in=READS).count(),
        )

    def __exit__(self, *exc):
        assert self.state() == self.before


def as_role(user, role: Role, place) -> audit.Context:
    return audit.Context(actor=user, place_id=place.pk, actor_label=user.email, role=role.value)


# --- Deriving the change from the locked row -----------------------------------------


def test_the_natural_call_writes_the_change_event(place_a):
    """Passing the person as it was loaded (not a fresh copy) still records the change."""
    person = factories.make_person(place_a, given_name="Sam")
    person.given_name = "Samuel"  # a caller that edited its copy before saving
    saved = people.update_person(
        person=person, data={"given_name": "Samuel"}, expected_version=1, by=SYSTEM
    )
    assert saved.given_name == "Samuel" and saved.version == 2
    event = AuditEvent.objects.get(action="changed", person_id=person.pk)
    assert event.changes["given_name"] == ["Sam", "Samuel"]


def test_an_edit_with_no_change_writes_nothing(place_a):
    person = factories.make_person(place_a)
    with Unchanged():
        people.update_person(
            person=person, data={"given_name": person.given_name}, expected_version=1, by=SYSTEM
        )


def test_a_closed_record_cannot_be_edited_rated_or_given_events_or_actions(place_a):
    person = factories.make_person(place_a)
    people.close_record(
        person=person,
        reason="died",
        closed_on=dates.today(),
        note="",
        expected_version=1,
        by=SYSTEM,
    )
    with Unchanged():
        for attempt in [
            lambda: people.update_person(
                person=person, data={"given_name": "X"}, expected_version=2, by=SYSTEM
            ),
            lambda: risk.rate(person=person, rating="R", rationale="x", by=SYSTEM),
            lambda: risk.log_event(
                person=person, kind="ae", occurred_on=dates.today(), description="", by=SYSTEM
            ),
            lambda: actions.open_action(
                person=person,
                description="x",
                due_on=dates.today(),
                source="other",
                owner_name="Sam",
                by=SYSTEM,
            ),
        ]:
            with pytest.raises(ValidationError, match="closed"):
                attempt()


# --- Validating everything -----------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "field", "message"),
    [
        (
            lambda p: risk.log_event(
                person=p, kind="bogus", occurred_on=dates.today(), description="", by=SYSTEM
            ),
            "kind",
            "Select what happened",
        ),
        (
            lambda p: risk.log_event(
                person=p, kind="ae", occurred_on="yesterday", description="", by=SYSTEM
            ),
            "occurred_on",
            "must be a real date",
        ),
        (
            lambda p: risk.log_event(
                person=p, kind="ae", occurred_on=dates.today(), description="x" * 2001, by=SYSTEM
            ),
            "description",
            "Details must be 2000 characters or fewer",
        ),
        (
            lambda p: risk.rate(person=p, rating="P", rationale="x", by=SYSTEM),
            "rating",
            "Select a rating",
        ),
        (
            lambda p: risk.rate(person=p, rating="R", rationale="x", context="chat", by=SYSTEM),
            "context",
            "Select where this was decided",
        ),
        (
            lambda p: risk.rate(person=p, rating="R", rationale=" ", by=SYSTEM),
            "rationale",
            "Enter the reason for this rating",
        ),
        (
            lambda p: people.close_record(
                person=p,
                reason="bored",
                closed_on=dates.today(),
                note="",
                expected_version=1,
                by=SYSTEM,
            ),
            "closure_reason",
            "Select why this person is leaving the register",
        ),
        (
            lambda p: people.update_person(
                person=p, data={"accommodation": "castle"}, expected_version=1, by=SYSTEM
            ),
            "accommodation",
            "Select a valid choice for accommodation",
        ),
        (
            lambda p: people.update_person(
                person=p, data={"given_name": "x" * 101}, expected_version=1, by=SYSTEM
            ),
            "given_name",
            "Given name must be 100 characters or fewer",
        ),
        (
            lambda p: people.update_person(
                person=p, data={"looked_after": "yes"}, expected_version=1, by=SYSTEM
            ),
            "looked_after",
            "Select a valid choice",
        ),
        (
            lambda p: people.update_person(
                person=p, data={"nhs_number": "٩٤٣٤٧٦٥٩١٩"}, expected_version=1, by=SYSTEM
            ),
            "nhs_number",
            "NHS number must contain only numbers",
        ),
        (
            lambda p: actions.open_action(
                person=p,
                description="x",
                due_on=dates.today(),
                source="gossip",
                owner_name="Sam",
                by=SYSTEM,
            ),
            "source",
            "Select where it came from",
        ),
    ],
)
def test_services_refuse_what_the_form_refuses_with_its_words(place_a, call, field, message):
    person = factories.make_person(place_a)
    with Unchanged(), pytest.raises(ValidationError) as refusal:
        call(person)
    assert any(message in m for m in refusal.value.message_dict[field]), refusal.value


def test_a_second_bad_event_kind_can_no_longer_break_the_signal_rules(place_a):
    person = factories.make_person(place_a)
    for _ in range(2):
        with pytest.raises(ValidationError):
            risk.log_event(
                person=person, kind="bogus", occurred_on=dates.today(), description="", by=SYSTEM
            )
    risk.log_event(person=person, kind="ae", occurred_on=dates.today(), description="", by=SYSTEM)


def test_risk_factors_must_be_this_places_and_in_use(place_a, place_b):
    person = factories.make_person(place_a)
    theirs = RiskFactor.objects.filter(place=place_b).first()
    retired = RiskFactor.objects.filter(place=place_a).first()
    RiskFactor.objects.filter(pk=retired.pk).update(is_active=False)
    for factor in (theirs, retired, "3"):
        with Unchanged(), pytest.raises(ValidationError, match="this place's list"):
            risk.rate(person=person, rating="R", rationale="x", factors=[factor], by=SYSTEM)


# --- Who may own an action -----------------------------------------------------------


@pytest.mark.parametrize(
    "owner", ["outsider", Role.AUDITOR, Role.PLACE_ADMIN, Role.PARTNER, "nobody"]
)
def test_an_action_is_owned_only_by_someone_who_can_see_and_update_it(cast, person_a, owner):
    with Unchanged(), pytest.raises(ValidationError, match="works on this person's record"):
        actions.open_action(
            person=person_a,
            description="Ring the school",
            due_on=dates.today(),
            source="other",
            owner_user=cast[owner],
            by=SYSTEM,
        )


@pytest.mark.parametrize("owner", [Role.COORDINATOR, Role.KEYWORKER])
def test_the_team_can_own_actions(cast, person_a, owner):
    action = actions.open_action(
        person=person_a,
        description="Ring the school",
        due_on=dates.today(),
        source="other",
        owner_user=cast[owner],
        by=SYSTEM,
    )
    assert action.owner_user == cast[owner]


def test_an_actions_organisation_must_be_the_places_own(cast, person_a, place_b):
    theirs = places.add_organisation(
        place=place_b, name="Elsewhere CAMHS", kind=OrganisationKind.NHS_TRUST, by=SYSTEM
    )
    with Unchanged(), pytest.raises(ValidationError, match="organisation from this place"):
        actions.open_action(
            person=person_a,
            description="x",
            due_on=dates.today(),
            source="other",
            owner_organisation=theirs,
            by=SYSTEM,
        )


def test_a_partner_updates_only_the_actions_they_own(cast, person_a, place_a):
    partner = cast[Role.PARTNER]
    factories.in_network(person_a, partner)
    theirs = actions.open_action(
        person=person_a,
        description="x",
        due_on=dates.today(),
        source="other",
        owner_user=partner,
        by=SYSTEM,
    )
    others = actions.open_action(
        person=person_a,
        description="y",
        due_on=dates.today(),
        source="other",
        owner_user=cast[Role.KEYWORKER],
        by=SYSTEM,
    )
    by = as_role(partner, Role.PARTNER, place_a)
    actions.update_action(action=theirs, status="done", note="", expected_version=1, by=by)
    with pytest.raises(ValidationError, match="Only the action's owner"):
        actions.update_action(action=others, status="done", note="", expected_version=1, by=by)


# --- What an NHS number reveals (ADR 0010) --------------------------------------------


def test_only_roles_that_add_people_change_an_nhs_number(cast, person_a, place_a):
    keyworker = as_role(cast[Role.KEYWORKER], Role.KEYWORKER, place_a)
    with Unchanged(), pytest.raises(ValidationError, match="Only a member of the team"):
        people.update_person(
            person=person_a,
            data={"nhs_number": factories.next_nhs_number()},
            expected_version=1,
            by=keyworker,
        )
    coordinator = as_role(cast[Role.COORDINATOR], Role.COORDINATOR, place_a)
    number = factories.next_nhs_number()
    saved = people.update_person(
        person=person_a, data={"nhs_number": number}, expected_version=1, by=coordinator
    )
    assert saved.nhs_number == number


def test_roles_that_cannot_add_people_get_no_signal_from_other_places(cast, place_a, person_b):
    keyworker = as_role(cast[Role.KEYWORKER], Role.KEYWORKER, place_a)
    found = people.find_duplicates(
        place=place_a,
        nhs=person_b.nhs_number,
        given_name=person_b.given_name,
        family_name=person_b.family_name,
        date_of_birth=person_b.date_of_birth,
        by=keyworker,
    )
    assert not found and not AuditEvent.objects.filter(action="checked").exists()


def test_an_arabic_indic_spelling_of_an_open_number_is_not_a_second_record(place_a):
    person = factories.make_person(place_a)
    eastern = person.nhs_number.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    with pytest.raises(ValidationError, match="only numbers"):
        factories.make_person(place_a, nhs_number=eastern)
    assert Person.objects.filter(place=place_a).count() == 1


# --- Concurrency (PostgreSQL) ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="needs a server with real concurrency"
)
def test_concurrent_ratings_leave_the_current_rating_agreeing_with_the_history():
    place = factories.make_place("Busy place")
    person = add_to_register(
        place=place, data=person_data(), rating="G", rationale="first", by=SYSTEM
    )
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def rater(rating: str) -> None:
        try:
            start.wait()
            for _ in range(4):
                risk.rate(
                    person=Person.objects.get(pk=person.pk),
                    rating=rating,
                    rationale=f"rated {rating}",
                    by=SYSTEM,
                )
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=rater, args=(r,)) for r in "RAGBRAGB"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    person.refresh_from_db()
    latest = Rating.objects.filter(person=person).order_by("-decided_on", "-id").first()
    assert Rating.objects.filter(person=person).count() == 33
    assert (person.current_rating, person.review_due) == (latest.rating, latest.review_due)
    assert verify().intact


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="needs a server with real concurrency"
)
def test_a_backdated_rating_racing_a_newer_one_is_refused_not_left_current():
    """Deterministic interleaving: A rates today and holds its transaction open; B rates
    yesterday meanwhile. B must wait for A and then be refused (a rating cannot be dated
    before the current one). Without the person's lock B would check against the old
    picture, wait only at its update, and leave yesterday's rating as the current one."""
    from django.db import transaction

    place = factories.make_place("Racing place")
    person = add_to_register(
        place=place,
        data=person_data(),
        rating="G",
        rationale="first",
        rated_on=dates.today() - timedelta(days=3),
        by=SYSTEM,
    )
    a_rated = threading.Event()
    outcome: dict[str, object] = {}

    def a() -> None:
        try:
            with transaction.atomic():
                risk.rate(
                    person=Person.objects.get(pk=person.pk),
                    rating="R",
                    rationale="today",
                    by=SYSTEM,
                )
                a_rated.set()
                until_someone_waits_on_a_lock(within_seconds=30)
        finally:
            connections.close_all()

    def b() -> None:
        try:
            a_rated.wait(30)
            risk.rate(
                person=Person.objects.get(pk=person.pk),
                rating="G",
                rationale="yesterday",
                decided_on=dates.today() - timedelta(days=1),
                by=SYSTEM,
            )
            outcome["b"] = "saved"
        except ValidationError as refusal:
            outcome["b"] = refusal.messages
        finally:
            connections.close_all()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    person.refresh_from_db()
    latest = Rating.objects.filter(person=person).order_by("-decided_on", "-id").first()
    assert (person.current_rating, person.rated_on) == (latest.rating, latest.decided_on)
    assert person.current_rating == "R"
    assert "cannot be dated before the current one" in str(outcome["b"])


def test_dates_are_checked_by_every_dated_service(place_a):
    person = factories.make_person(place_a)
    tomorrow = dates.today() + timedelta(days=1)
    before_birth = person.date_of_birth - timedelta(days=1)
    for day in (tomorrow, before_birth):
        with Unchanged(), pytest.raises(ValidationError):
            risk.log_event(person=person, kind="ae", occurred_on=day, description="", by=SYSTEM)
        with Unchanged(), pytest.raises(ValidationError):
            risk.rate(person=person, rating="R", rationale="x", decided_on=day, by=SYSTEM)


# --- Found by attacking the door (each failed before its fix) -------------------------


def test_a_role_acts_only_on_its_own_places_records(cast, person_a, place_b):
    """Services check the place a role is held in, not only the role (the views' doors
    already do; other callers must not get round them)."""
    from django.core.exceptions import PermissionDenied

    outsider = as_role(cast["outsider"], Role.COORDINATOR, place_b)
    action = actions.open_action(
        person=person_a,
        description="x",
        due_on=dates.today(),
        source="other",
        owner_name="Sam",
        by=SYSTEM,
    )
    with Unchanged():
        for attempt in [
            lambda: people.update_person(
                person=person_a, data={"given_name": "X"}, expected_version=1, by=outsider
            ),
            lambda: people.close_record(
                person=person_a,
                reason="died",
                closed_on=dates.today(),
                note="",
                expected_version=1,
                by=outsider,
            ),
            lambda: risk.log_event(
                person=person_a,
                kind="ae",
                occurred_on=dates.today(),
                description="",
                by=outsider,
            ),
            lambda: risk.rate(person=person_a, rating="R", rationale="x", by=outsider),
            lambda: actions.update_action(
                action=action, status="done", note="", expected_version=1, by=outsider
            ),
            lambda: add_to_register(
                place=person_a.place, data=person_data(), rating="G", rationale="x", by=outsider
            ),
            lambda: actions.open_action(
                person=person_a,
                description="x",
                due_on=dates.today(),
                source="other",
                owner_name="Sam",
                by=outsider,
            ),
            lambda: people.add_network_member(
                person=person_a,
                name="Dr Ada",
                started_on=dates.today(),
                by=outsider,
            ),
        ]:
            with pytest.raises(PermissionDenied):
                attempt()


def test_a_name_check_matches_whole_names_not_their_start(cast, place_a, person_b):
    """'Bella B' with Bella Brook's date of birth must not confirm another place's surname
    letter by letter (ADR 0010: never who)."""
    coordinator = as_role(cast[Role.COORDINATOR], Role.COORDINATOR, place_a)

    def check(family: str) -> bool:
        return people.find_duplicates(
            place=place_a,
            nhs="",
            given_name=person_b.given_name,
            family_name=family,
            date_of_birth=person_b.date_of_birth,
            by=coordinator,
        ).elsewhere

    assert [check(f) for f in ("B", "Br", "Bro")] == [False, False, False]
    assert check("Brook") is True


def test_a_new_nhs_number_on_the_edit_form_is_a_checked_and_audited_lookup(
    cast, person_a, person_b, place_a
):
    coordinator = as_role(cast[Role.COORDINATOR], Role.COORDINATOR, place_a)
    with pytest.raises(ValidationError, match="another place"):
        people.update_person(
            person=person_a,
            data={"nhs_number": person_b.nhs_number},
            expected_version=1,
            by=coordinator,
        )
    check = AuditEvent.objects.get(action="checked")
    assert check.changes["nhs_number"] == person_b.nhs_number
    assert check.changes["found_elsewhere"] is True


def test_a_date_of_birth_cannot_move_after_the_persons_records(place_a):
    person = factories.make_person(place_a, date_of_birth=factories.born_years_ago(10))
    risk.log_event(
        person=person,
        kind="ae",
        occurred_on=dates.today() - timedelta(days=400),
        description="",
        by=SYSTEM,
    )
    with Unchanged(), pytest.raises(ValidationError, match="before the person's first record"):
        people.update_person(
            person=person,
            data={"date_of_birth": dates.today() - timedelta(days=300)},
            expected_version=1,
            by=SYSTEM,
        )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda p, cast: places.grant_membership(
                user=cast["nobody"], place=p.place, role="superuser", by=SYSTEM
            ),
            "Select a role",
        ),
        (
            lambda p, cast: places.add_organisation(
                place=p.place, name="x" * 201, kind="nhs_trust", by=SYSTEM
            ),
            "200 characters or fewer",
        ),
        (
            lambda p, cast: places.add_organisation(
                place=p.place, name="Org", kind="cult", by=SYSTEM
            ),
            "Select the kind of organisation",
        ),
        (
            lambda p, cast: actions.open_action(
                person=p,
                description="x",
                due_on=dates.today(),
                source="other",
                owner_name="Sam",
                rule_key="x" * 10_000,
                by=SYSTEM,
            ),
            "40 characters or fewer",
        ),
        (
            lambda p, cast: people.add_network_member(
                person=p, name="Sam", started_on=dates.today(), is_lead="no", by=SYSTEM
            ),
            "lead professional",
        ),
        (
            lambda p, cast: people.add_network_member(
                person=p,
                name="Sam",
                started_on=p.date_of_birth - timedelta(days=1),
                by=SYSTEM,
            ),
            "before the person's date of birth",
        ),
    ],
)
def test_every_service_refuses_what_no_form_would_send(cast, person_a, call, message):
    from dsr.places.models import Membership, Organisation

    before = (Membership.objects.count(), Organisation.objects.count())
    with Unchanged(), pytest.raises(ValidationError, match=message):
        call(person_a, cast)
    assert (Membership.objects.count(), Organisation.objects.count()) == before


def test_progress_cannot_be_dated_before_the_action_was_opened(person_a):
    action = actions.open_action(
        person=person_a,
        description="x",
        due_on=dates.today(),
        source="other",
        owner_name="Sam",
        by=SYSTEM,
    )
    with Unchanged(), pytest.raises(ValidationError, match="before the action was opened"):
        actions.update_action(
            action=action,
            status="done",
            note="",
            expected_version=1,
            on=dates.today() - timedelta(days=1),
            by=SYSTEM,
        )


def test_a_record_about_a_person_is_always_in_the_persons_place(cast, person_a, place_b):
    """The doors check the person's place as well as the record's own column; PostgreSQL
    refuses a row whose place is not its person's."""
    from django.db import IntegrityError, transaction

    from dsr.actions.scoping import ACTIONS
    from dsr.core.door import Viewer
    from dsr.places.models import Membership

    action = actions.open_action(
        person=person_a,
        description="x",
        due_on=dates.today(),
        source="other",
        owner_name="Sam",
        by=SYSTEM,
    )
    move = lambda: Action.objects.filter(pk=action.pk).update(place=place_b)  # noqa: E731
    if connection.vendor == "postgresql":
        with pytest.raises(IntegrityError, match="person's place"), transaction.atomic():
            move()
    else:
        move()
        outsider = Membership.objects.get(user=cast["outsider"])
        seen = ACTIONS.list(Viewer.acting_for(outsider, label="t"), purpose="t")
        assert not list(seen)
