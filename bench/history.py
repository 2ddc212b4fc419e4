"""The register's rows and their audit history, planned in memory (imported after django.setup()).

Services write one record and one audit event per call, under the audit chain's lock:
right for the app, far too slow for 100,000 people with dozens of events each. So this
module plans everything in memory and writes it in bulk (bench/bulk.py): small tables with
bulk_create, large ones with COPY, and the audit trail in time order with each hash
signed by the app's own `chain.signature` in per-place chains, so `manage.py verify_audit`
passes as usual.

Each person's history is built by the steps in `build()`: identity and closure, then
RATINGS (`plan_ratings` before the person row is written, since the register keeps the
current rating on the person, ADR 0007; `write_ratings` after, when ids exist), then
events, signals and actions, then the reads and edits in the audit trail. A later domain
adds its own plan_*/write_* pair there, as step 6 did (bench/step6.py); stays in
hospital and C(E)TRs follow the planned ratings (bench/wards.py). Tracker meetings come
last, through their services once the chain is written (bench/meetings.py).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import import_module
from typing import Any

from django.contrib.auth.hashers import make_password
from django_otp.plugins.otp_totp.models import TOTPDevice

from bench import common, step6
from bench.bulk import EPOCH, Spec, copy_models, copy_rows, write_audit_chain
from bench.meetings import write_meetings
from bench.wards import write_wards
from dsr.accounts.models import User
from dsr.actions.models import Action, ActionSource, ActionStatus
from dsr.core import dates, nhs_number, text
from dsr.core.models import AuditAction, AuditEvent
from dsr.people.choices import (
    Accommodation,
    Attendance,
    Autism,
    ClosureReason,
    EHCPlan,
    Ethnicity,
    LearningDisability,
    Status,
)
from dsr.people.models import Person
from dsr.people.services import EDITABLE_FIELDS
from dsr.places.models import Membership, Place, PlaceSettings
from dsr.risk import rules
from dsr.risk.models import (
    EventKind,
    Rating,
    RatingContext,
    Review,
    RiskFactor,
    Signal,
    SignificantEvent,
)
from dsr.risk.services import seed_risk_factors

HISTORY_DAYS = 3 * 365
DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000
EPOCH_ORDINAL = EPOCH.date().toordinal()
# Enum .values builds a new list on every call: once per field here, not per row.
CHOICES = {
    c: list(c.values)
    for c in (
        Ethnicity,
        Accommodation,
        LearningDisability,
        Autism,
        Attendance,
        EHCPlan,
        ClosureReason,
        EventKind,
        ActionSource,
    )
}
# Most events are "viewed"; they share one changes dict (and its JSON, bulk.py).
VIEWED = {"page": "record"}


def _words(names: Any) -> set[str]:
    return {n for n in names if n.replace("'", "").replace("-", "").isalpha() and len(n) > 1}


def name_lists() -> tuple[list[str], list[str]]:
    """Thousands of given and family names from Faker's English-speaking locales.

    Large lists keep a name search selective, as in a real register (a few people per
    surname in a place), rather than every search matching a tenth of the place.
    """
    given: set[str] = set()
    family: set[str] = set()
    for locale in ("en_GB", "en_US", "en_IE", "en_IN", "en_NZ", "en_PK"):
        provider = import_module(f"faker.providers.person.{locale}").Provider
        for attr in ("first_names_male", "first_names_female", "first_names"):
            given |= _words(getattr(provider, attr, ()))
        family |= _words(getattr(provider, "last_names", ()))
    return sorted(given), sorted(family)


PLACE_STEMS = ["North", "South", "East", "West", "Upper", "Lower", "Great", "Little"]
PLACE_ENDS = ["brook", "field", "ham", "ton", "wick", "ford", "bury", "mere"]
STREETS = ["Mill", "Church", "Station", "Park", "Victoria", "Green", "Manor", "Kings", "Queens"]
STREET_KINDS = ["Road", "Street", "Lane", "Close", "Avenue", "Way"]
RATINGS = ["R", "A", "G", "B"]
RATING_WEIGHTS = [10, 30, 50, 10]
RATING_CONTEXTS = [RatingContext.REVIEW] * 6 + [RatingContext.TRACKER_MEETING, RatingContext.CETR]
RATIONALES = {
    "R": "In crisis: placement at risk of breaking down this week; not manageable at home.",
    "A": "Escalating behaviour and two A&E attendances; admission likely without support.",
    "G": "Settled at home and school with the current package; risks managed well.",
    "B": "Admitted to an assessment and treatment unit; discharge planning under way.",
}
ACTION_TEXTS = [
    "Refer to the keyworker service",
    "Arrange a multi-agency meeting",
    "Hold a community C(E)TR",
    "Update the positive behaviour support plan",
    "Share the crisis plan with the school",
    "Ask CAMHS for a medication review",
    "Request a short-break assessment from social care",
]
EVENT_TEXTS = [
    "Attended A&E with self-injury; discharged the same night.",
    "Police called by neighbours; no further action.",
    "School reduced the timetable to mornings only.",
    "Carer unwell; family support stretched.",
    "",
]
SAFETY_TEXTS = [
    "Becomes distressed by loud noise: speak calmly, offer ear defenders.",
    "Allergic to penicillin. Epilepsy: rescue medication in the red bag.",
    "Do not restrain: use the agreed de-escalation plan (PBS plan, section 4).",
    "",
]


@dataclass
class World:
    """What every step needs: the clock, the places and their staff, the planned audit."""

    rng: random.Random
    today: date
    start: date
    now_us: int
    places: list[Place] = field(default_factory=list)
    policy: dict[int, PlaceSettings] = field(default_factory=dict)
    factors: dict[int, list[int]] = field(default_factory=dict)
    staff: dict[int, dict[str, list[User]]] = field(default_factory=dict)
    labels: dict[int, str] = field(default_factory=dict)
    audit: list[Spec] = field(default_factory=list)
    _pools: dict[tuple[int, tuple[str, ...]], list[User]] = field(default_factory=dict)

    def day_between(self, first: date, last: date) -> date:
        return first + timedelta(days=int(self.rng.random() * ((last - first).days + 1)))

    def moment(self, day: date) -> int:
        """A working-hours moment on `day` in µs since 1970 (integers: exact, unlike floats).

        Never in the future: the generator runs during the working day too.
        """
        at = (day.toordinal() - EPOCH_ORDINAL) * DAY_US + 7 * HOUR_US
        at += int(self.rng.random() * 11 * HOUR_US)
        return at if at < self.now_us else self.now_us - int(self.rng.random() * HOUR_US) - 1

    def when(self, day: date) -> datetime:
        return EPOCH + timedelta(microseconds=self.moment(day))

    def record(
        self,
        day: date,
        actor: User | None,
        place_id: int | None,
        action: str,
        object_type: str = "",
        object_id: object = "",
        person_id: int | None = None,
        changes: dict[str, Any] | None = None,
    ) -> None:
        oid = str(object_id) if object_id not in (None, "") else ""
        actor_id = actor.pk if actor else None
        spec = (self.moment(day), actor_id, place_id, str(action), object_type, oid, person_id)
        self.audit.append((*spec, changes if changes is not None else {}))

    def pool(self, place_id: int, *roles: str) -> list[User]:
        key = (place_id, roles)
        if key not in self._pools:
            self._pools[key] = [u for r in roles for u in self.staff[place_id][r]]
        return self._pools[key]

    def someone(self, place_id: int, *roles: str) -> User:
        pool = self.pool(place_id, *roles)
        return pool[int(self.rng.random() * len(pool))]


@dataclass(slots=True)
class PersonPlan:
    person: Person
    added_on: date
    until: date
    added_by: User
    ratings: list[tuple[date, str, str]] = field(default_factory=list)
    edits: list[tuple[date, str, str, str]] = field(default_factory=list)


# -- places and staff -------------------------------------------------------------------


def make_places(world: World, count: int) -> None:
    names = [f"{s}{e} (bench)" for e in PLACE_ENDS for s in PLACE_STEMS][:count]
    names += [f"Benchplace {n:03d}" for n in range(len(names), count)]
    opened = world.start - timedelta(days=7)
    made = world.when(opened)
    places = Place.objects.bulk_create(
        Place(name=n, icb_name=f"Bench ICB {i // 5 + 1}") for i, n in enumerate(names)
    )
    PlaceSettings.objects.bulk_create(PlaceSettings(place=p) for p in places)
    Place.objects.update(created_at=made)
    PlaceSettings.objects.update(created_at=made, updated_at=made)
    for place in places:
        # What the post_save receiver does for a place made by the service.
        seed_risk_factors(place=place)
        world.record(opened, None, place.pk, AuditAction.CREATED, "Place", place.pk)
    world.places = places
    world.policy = {s.place_id: s for s in PlaceSettings.objects.all()}
    for place_id, factor_id in RiskFactor.objects.values_list("place_id", "id"):
        world.factors.setdefault(place_id, []).append(factor_id)


def make_staff(world: World) -> None:
    """Users per role per place, each with a confirmed TOTP device; one admin superuser.

    The password is hashed once (Argon2 is slow by design) and shared: bench users only.
    """
    hashed = make_password(common.PASSWORD)
    users: list[User] = []
    roles: list[tuple[Place, str]] = []
    for number, place in enumerate(world.places, start=1):
        for role, how_many in common.USERS_PER_ROLE.items():
            for k in range(1, how_many + 1):
                email = common.user_email(role, k, number)
                full = f"{role.replace('_', ' ').title()} {k} of {place.name}"
                users.append(User(email=email, full_name=full, password=hashed))
                roles.append((place, role))
    admin = User(
        email=common.ADMIN_EMAIL,
        full_name="Bench admin",
        password=hashed,
        is_staff=True,
        is_superuser=True,
    )
    users = User.objects.bulk_create([*users, admin])
    staff = users[:-1]
    memberships = Membership.objects.bulk_create(
        Membership(user=u, place=p, role=r) for u, (p, r) in zip(staff, roles, strict=True)
    )
    TOTPDevice.objects.bulk_create(
        TOTPDevice(user=u, name="Authenticator app", confirmed=True) for u in staff
    )
    granted = world.start - timedelta(days=6)
    for membership, user in zip(memberships, staff, strict=True):
        place_id, role = membership.place_id, membership.role
        world.staff.setdefault(place_id, {}).setdefault(role, []).append(user)
        world.labels[user.pk] = user.email
        changes = {"role": role, "user": user.email}
        world.record(
            granted, None, place_id, AuditAction.CREATED, "Membership", membership.pk, None, changes
        )
    world.labels[users[-1].pk] = users[-1].email


# -- people -----------------------------------------------------------------------------


def nhs_numbers() -> Iterator[str]:
    """Valid numbers (check digit) from the 999 range, which belongs to no real person."""
    stem = 999_000_000
    while True:
        digit = nhs_number.check_digit(str(stem))
        if digit is not None:
            yield f"{stem}{digit}"
        stem += 1


def plan_people(world: World, count: int) -> list[PersonPlan]:
    rng = world.rng
    given, family = name_lists()
    numbers = nhs_numbers()
    plans = []
    for i in range(count):
        place = world.places[i % len(world.places)]
        added_on = world.day_between(world.start, world.today - timedelta(days=14))
        closed = rng.random() < 0.15 and (world.today - added_on).days > 60
        until = world.day_between(added_on + timedelta(days=30), world.today) if closed else None
        age_now = rng.randint(4, 24)
        born = dates.add_years(world.today, -age_now) - timedelta(days=rng.randint(0, 364))
        names = (
            rng.choice(given),
            rng.choice(family),
            rng.choice(given) if rng.random() < 0.08 else "",
        )
        person = Person(
            place=place,
            given_name=names[0],
            family_name=names[1],
            preferred_name=names[2],
            search_name=text.search_key(*names),
            date_of_birth=born,
            nhs_number=next(numbers) if rng.random() < 0.95 else "",
            ethnicity=rng.choice(CHOICES[Ethnicity]),
            address=f"{rng.randint(1, 199)} {rng.choice(STREETS)} {rng.choice(STREET_KINDS)}",
            postcode=f"{rng.choice('BLMNS')}{rng.choice('DEKLN')}{rng.randint(1, 29)} "
            f"{rng.randint(1, 9)}{rng.choice('ABDEFGHJ')}{rng.choice('LNPQRSTU')}",
            local_authority=place.name.replace(" (bench)", " Council"),
            gp_practice=f"The {rng.choice(family)} Surgery",
            accommodation=rng.choice(CHOICES[Accommodation]),
            learning_disability=rng.choice(CHOICES[LearningDisability]),
            autism=rng.choice(CHOICES[Autism]),
            diagnosis_notes="Moderate learning disability; ADHD." if rng.random() < 0.3 else "",
            education_setting=f"{rng.choice(family)} Academy" if age_now < 19 else "",
            education_attendance=rng.choice(CHOICES[Attendance]),
            ehc_plan=rng.choice(CHOICES[EHCPlan]),
            looked_after=rng.random() < 0.15,
            child_protection_plan=rng.random() < 0.08,
            child_in_need=rng.random() < 0.2,
            communication_needs="Uses Makaton and a visual timetable." if i % 3 == 0 else "",
            key_safety_information=rng.choice(SAFETY_TEXTS),
            status=Status.CLOSED if closed else Status.OPEN,
            closed_on=until,
            closure_reason=rng.choice(CHOICES[ClosureReason]) if closed else "",
            closure_note="Agreed at the tracker meeting." if closed else "",
        )
        plan = PersonPlan(
            person=person,
            added_on=added_on,
            until=until or world.today,
            added_by=world.someone(place.pk, "coordinator"),
        )
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            # Changed from an earlier value to the one the record holds now.
            name, old = rng.choice(
                [
                    ("postcode", f"{rng.choice('BLMNS')}X{rng.randint(1, 29)} 1AB"),
                    ("gp_practice", f"The {rng.choice(family)} Medical Centre"),
                    ("education_attendance", rng.choice(CHOICES[Attendance])),
                ]
            )
            day = world.day_between(added_on, plan.until)
            plan.edits.append((day, name, old, getattr(person, name)))
        plan.edits.sort()
        last_change = max([added_on, *(e[0] for e in plan.edits), *([until] if until else [])])
        person.version = 1 + len(plan.edits) + (1 if closed else 0)
        person.created_at = world.when(added_on)
        person.updated_at = world.when(last_change)
        plans.append(plan)
    return plans


def insert_people(plans: list[PersonPlan]) -> None:
    copy_models([p.person for p in plans])


# -- RATINGS: the hook for each person's risk history ------------------------------------


def plan_ratings(world: World, plan: PersonPlan) -> None:
    """Decide a person's dated ratings and set the register's copy of the current one.

    Runs before the person row is written: the register filters and sorts on the
    person's current_rating/review_due (ADR 0007).
    """
    rng = world.rng
    person = plan.person
    policy = world.policy[person.place_id]
    later = sorted(world.day_between(plan.added_on, plan.until) for _ in range(rng.randint(0, 4)))
    picks = rng.choices(RATINGS, RATING_WEIGHTS, k=len(later) + 2)
    plan.ratings = [(plan.added_on, picks[0], RatingContext.INITIAL)]
    if person.status == Status.OPEN and rng.random() < 0.85:
        # A register kept up to date: most open records had their last review within
        # its interval, so their next review is still ahead (the rest are overdue).
        interval = getattr(policy, rules.REVIEW_INTERVAL_FIELD[picks[-1]])
        final = world.today - timedelta(days=rng.randint(0, interval - 1))
        if final > plan.added_on:
            later = [day for day in later if day < final] + [final]
            picks[len(later)] = picks[-1]
    plan.ratings += [
        (day, rating, rng.choice(RATING_CONTEXTS))
        for day, rating in zip(later, picks[1 : len(later) + 1], strict=True)
    ]
    last_day, last_rating, _ = plan.ratings[-1]
    person.current_rating = last_rating
    person.rated_on = last_day
    person.review_due = rules.review_due(policy, last_rating, last_day)
    person.review_now = person.status == Status.OPEN and rng.random() < 0.03


def write_ratings(world: World, plans: list[PersonPlan]) -> None:
    """Write the planned ratings (with factors and reviews) and their audit events."""
    rng = world.rng
    decisions: list[Rating] = []
    previous: list[str | None] = []
    for plan in plans:
        person = plan.person
        policy = world.policy[person.place_id]
        before = None
        for day, rating, context in plan.ratings:
            who = world.someone(person.place_id, "coordinator")
            decisions.append(
                Rating(
                    person=person,
                    rating=rating,
                    decided_on=day,
                    rationale=RATIONALES[rating],
                    context=context,
                    decided_by=who,
                    decided_by_label=who.email,
                    review_due=rules.review_due(policy, rating, day),
                    created_at=world.when(day),
                )
            )
            previous.append(before)
            before = rating
    copy_models(decisions)
    links = []
    reviews = []
    for decision, before in zip(decisions, previous, strict=True):
        person = decision.person
        for factor_id in rng.sample(world.factors[person.place_id], rng.randint(0, 2)):
            links.append((decision.pk, factor_id))
        world.record(
            decision.decided_on,
            decision.decided_by,
            person.place_id,
            AuditAction.CREATED,
            "Rating",
            decision.pk,
            person.pk,
            {"rating": [before, decision.rating], "context": [None, str(decision.context)]},
        )
        if decision.context == RatingContext.REVIEW:
            reviews.append(
                Review(
                    person=person,
                    held_on=decision.decided_on,
                    participants="Parent, school SENCo, CAMHS clinician, social worker",
                    summary="Reviewed the support plan; agreed next steps below.",
                    rating=decision,
                    recorded_by=decision.decided_by,
                    created_at=decision.created_at,
                )
            )
    through = Rating.factors.through._meta
    copy_rows(through.db_table, ["rating_id", "riskfactor_id"], links)
    copy_models(reviews)
    for review in reviews:
        world.record(
            review.held_on,
            review.recorded_by,
            review.person.place_id,
            AuditAction.CREATED,
            "Review",
            review.pk,
            review.person_id,
        )


# -- significant events, signals, actions -------------------------------------------------


def write_events_and_actions(world: World, plans: list[PersonPlan]) -> None:
    rng = world.rng
    events: list[SignificantEvent] = []
    signals: list[Signal] = []
    actions: list[Action] = []
    later_statuses = [ActionStatus.DONE] * 8 + [ActionStatus.NOT_ACHIEVED, ActionStatus.CANCELLED]
    for plan in plans:
        person = plan.person
        place_id = person.place_id
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            day = world.day_between(plan.added_on, plan.until)
            who = world.someone(place_id, "coordinator", "keyworker")
            events.append(
                SignificantEvent(
                    person=person,
                    kind=rng.choice(CHOICES[EventKind]),
                    occurred_on=day,
                    description=rng.choice(EVENT_TEXTS),
                    recorded_by=who,
                    recorded_by_label=who.email,
                    created_at=world.when(day),
                )
            )
        if person.review_now:
            fired = world.today - timedelta(days=rng.randint(0, 10))
            signals.append(
                Signal(
                    person=person,
                    place_id=place_id,
                    rule="event_run",
                    fired_on=fired,
                    explanation="2 significant events in the last 30 days",
                    created_at=world.when(fired),
                )
            )
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            day = world.day_between(plan.added_on, plan.until)
            due = day + timedelta(days=rng.randint(5, 40))
            status = ActionStatus.OPEN
            if due < world.today - timedelta(days=14) and rng.random() < 0.85:
                status = rng.choice(later_statuses)
            actions.append(
                Action(
                    person=person,
                    place_id=place_id,
                    description=rng.choice(ACTION_TEXTS),
                    owner_user=world.someone(place_id, "coordinator", "keyworker"),
                    due_on=due,
                    status=status,
                    source=rng.choice(CHOICES[ActionSource]),
                    created_by=world.someone(place_id, "coordinator"),
                    created_at=world.when(day),
                    updated_at=world.when(day),
                )
            )
    copy_models(events)
    copy_models(signals)
    copy_models(actions)
    for event in events:
        world.record(
            event.occurred_on,
            event.recorded_by,
            event.person.place_id,
            AuditAction.CREATED,
            "SignificantEvent",
            event.pk,
            event.person_id,
            {"kind": [None, event.kind], "occurred_on": [None, event.occurred_on.isoformat()]},
        )
    for signal in signals:
        world.record(
            signal.fired_on,
            None,
            signal.place_id,
            AuditAction.CREATED,
            "Signal",
            signal.pk,
            signal.person_id,
            {"rule": [None, signal.rule]},
        )
    for action in actions:
        world.record(
            action.created_at.date(),
            action.created_by,
            action.place_id,
            AuditAction.CREATED,
            "Action",
            action.pk,
            action.person_id,
            {
                "description": [None, action.description],
                "due_on": [None, action.due_on.isoformat()],
            },
        )


# -- the reads and writes of the person record in the audit trail --------------------------


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def add_person_audit(world: World, plans: list[PersonPlan]) -> None:
    """Created, edited, closed, and viewed many times: dozens of events per person."""
    rng = world.rng
    random_ = rng.random
    audit = world.audit
    now_us = world.now_us
    viewed = str(AuditAction.VIEWED)
    for plan in plans:
        person = plan.person
        pk, place_id = person.pk, person.place_id
        created = {
            name: [None, _jsonable(getattr(person, name))]
            for name in EDITABLE_FIELDS
            if getattr(person, name) not in ("", None, False)
        }
        world.record(
            plan.added_on, plan.added_by, place_id, AuditAction.CREATED, "Person", pk, pk, created
        )
        for day, name, old, new in plan.edits:
            who = world.someone(place_id, "coordinator", "keyworker")
            changes = {name: [old, new]}
            world.record(day, who, place_id, AuditAction.CHANGED, "Person", pk, pk, changes)
        if person.status == Status.CLOSED:
            changes = {
                "closure_reason": [None, person.closure_reason],
                "closed_on": [None, plan.until.isoformat()],
            }
            who = world.someone(place_id, "coordinator")
            world.record(plan.until, who, place_id, AuditAction.CLOSED, "Person", pk, pk, changes)
        # The views: the bulk of the trail, so built inline rather than through record().
        readers = [u.pk for u in world.pool(place_id, "coordinator", "keyworker", "viewer")]
        first_us = (plan.added_on.toordinal() - EPOCH_ORDINAL) * DAY_US + 7 * HOUR_US
        days = (plan.until - plan.added_on).days + 1
        oid = str(pk)
        for _ in range(rng.randint(6, 26)):
            at = first_us + int(random_() * days) * DAY_US + int(random_() * 11 * HOUR_US)
            if at >= now_us:
                at = now_us - int(random_() * HOUR_US) - 1
            actor = readers[int(random_() * len(readers))]
            audit.append((at, actor, place_id, viewed, "Person", oid, pk, VIEWED))


def add_staff_audit(world: World, plans: list[PersonPlan]) -> None:
    """Sign-ins and register searches: the events not about one person."""
    rng = world.rng
    for by_role in world.staff.values():
        for users in by_role.values():
            for user in users:
                changes = {"ip": f"192.0.2.{user.pk % 250 + 1}", "second_factor": True}
                for _ in range(rng.randint(20, 60)):
                    day = world.day_between(world.start, world.today)
                    world.record(
                        day, user, None, AuditAction.SIGNED_IN, "User", user.pk, None, changes
                    )
    for plan in rng.sample(plans, len(plans) // 4):
        person = plan.person
        terms = {"q": person.family_name[: rng.randint(3, 5)].lower(), "status": "open"}
        world.record(
            world.day_between(plan.added_on, plan.until),
            world.someone(person.place_id, "coordinator", "keyworker"),
            person.place_id,
            AuditAction.SEARCHED,
            "Person",
            "",
            None,
            {"terms": terms, "results": rng.randint(1, 12)},
        )


def build(*, people: int, places: int, seed: int, log: Any = print) -> dict[str, int]:
    """The whole data set: places, staff, people with their histories, the audit chain."""
    began = time.perf_counter()

    def step(message: str) -> None:
        log(f"  [{time.perf_counter() - began:4.0f} s] {message}", flush=True)

    today = dates.today()
    now_us = (datetime.now(EPOCH.tzinfo) - EPOCH) // timedelta(microseconds=1)
    world = World(
        rng=random.Random(seed),
        today=today,
        start=today - timedelta(HISTORY_DAYS),
        now_us=now_us,
    )
    make_places(world, places)
    make_staff(world)
    plans = plan_people(world, people)
    consents: dict[int, date] = {}
    for plan in plans:
        plan_ratings(world, plan)
        step6.plan_consent(world, plan, consents)
    insert_people(plans)
    step(f"{len(world.places)} places, {len(world.labels)} users, {len(plans)} people")
    write_ratings(world, plans)
    write_events_and_actions(world, plans)
    step("ratings, reviews, significant events, signals and actions")
    stays = write_wards(world, plans)
    step(f"{stays:,} stays in hospital, their visits, C(E)TRs and recommendations")
    step6.write(world, plans, consents)
    step("care networks, circumstances, consent, keywork and referrals")
    add_person_audit(world, plans)
    add_staff_audit(world, plans)
    step(f"{len(world.audit):,} audit events planned; writing the hash chain")
    events = write_audit_chain(world.audit, world.labels, world.rng, shared=[VIEWED], log=step)
    step("audit trail written and indexed")
    items = write_meetings(world)
    events = AuditEvent.objects.count()
    step(f"3 tracker meetings a place through their services: {items:,} agenda items")
    return {"people": len(plans), "places": len(world.places), "audit_events": events}
