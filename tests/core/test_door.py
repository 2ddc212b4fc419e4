"""One audited door (ADR 0009): care data is reached only through its scope module, and
reading it through the door records the read, whoever calls."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models

from dsr.core.access import Role
from dsr.core.door import DOORS, Viewer
from dsr.core.models import AuditEvent, AuditShown
from dsr.people.models import Person
from dsr.people.scoping import PEOPLE
from dsr.places.models import Membership
from tests import factories
from tests.factories import SYSTEM
from tests.helpers import at

DSR = Path(__file__).resolve().parents[2] / "dsr"
# Where a care model's manager may be named: its own app's models, scoping (the door) and
# services (the writes: services.py, or the modules of a services package), migrations, and
# core's generic door and audit trail.
ALLOWED = {"models.py", "scoping.py", "services.py"}


def care_models() -> list[type[models.Model]]:
    """Person, and every model that reaches a person through its foreign keys."""
    found: list[type[models.Model]] = []

    def about_a_person(model: type[models.Model], seen: frozenset = frozenset()) -> bool:
        if model is Person:
            return True
        for field in model._meta.get_fields():
            target = getattr(field, "related_model", None)
            if (
                field.many_to_one
                and target is not None
                and target not in seen
                and about_a_person(target, seen | {model})
            ):
                return True
        return False

    for config in apps.get_app_configs():
        if not config.name.startswith("dsr."):
            continue
        for model in config.get_models():
            if about_a_person(model) and not model._meta.auto_created:
                found.append(model)
    return found


# Rows that belong to a record and are reached only through it (a rating's factors are
# read with the rating; the reminder log holds no care data beyond an item key).
REACHED_THROUGH_ANOTHER = {
    "RatingFactor",
    "ConsentOrganisation",
    "Reminder",
    "AuditShown",
    "MeetingAction",  # read as the action it became, through ACTIONS
}


def test_every_care_model_has_a_door():
    models_without = [
        m.__name__
        for m in care_models()
        if m not in DOORS and m.__name__ not in REACHED_THROUGH_ANOTHER
    ]
    assert models_without == []
    assert len(DOORS) >= 8


def _modules():
    for path in sorted(DSR.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        yield path


def _care_names() -> set[str]:
    return {m.__name__ for m in care_models()} | {m.__name__ for m in DOORS}


def _reverse_accessors() -> set[str]:
    """Related-manager names that lead from a record to care records (person.ratings...)."""
    names = set()
    for model in care_models():
        for field in model._meta.get_fields():
            if (field.one_to_many or field.many_to_many) and field.related_model in DOORS:
                accessor = field.get_accessor_name() if hasattr(field, "get_accessor_name") else ""
                if accessor and not accessor.endswith("+"):
                    names.add(accessor)
    return names


def offences(path: Path) -> list[str]:
    """Where a module reaches a care model's rows other than through its door."""
    tree = ast.parse(path.read_text(), str(path))
    care = _care_names()
    accessors = _reverse_accessors()
    relative = path.relative_to(DSR)
    own_app = relative.parts[0]
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        target = node.value
        if node.attr in {"objects", "_default_manager", "_base_manager"}:
            name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", "")
            if name in care:
                model = next(m for m in [*care_models(), *DOORS] if m.__name__ == name)
                own_module = relative.name in ALLOWED or relative.parent.name == "services"
                allowed = (own_module and model._meta.app_label == own_app) or str(relative) in {
                    "core/door.py",
                    "core/audit.py",
                }
                if not allowed:
                    found.append(f"{relative}:{node.lineno} {name}.{node.attr}")
        elif (
            node.attr in accessors
            and relative.name not in ALLOWED
            and relative.parent.name != "services"
        ):
            found.append(f"{relative}:{node.lineno} .{node.attr}")
    return found


def test_no_page_job_or_panel_reaches_care_data_except_through_its_door():
    problems = [problem for path in _modules() for problem in offences(path)]
    assert problems == []


def test_no_template_reaches_a_manager():
    for path in (DSR / "templates").rglob("*.jinja"):
        text = path.read_text()
        assert ".objects" not in text, path
        for accessor in _reverse_accessors() - {"network"}:
            assert f".{accessor}." not in text, (path, accessor)


def test_the_lint_catches_a_view_that_reaches_past_the_door(tmp_path, monkeypatch):
    """The guarantee must fail when broken: a view that reads Person.objects is caught."""
    bad = DSR / "register" / "_lint_probe.py"
    bad.write_text(
        "from dsr.people.models import Person\n\n\ndef v():\n    return Person.objects.all()\n"
    )
    try:
        assert offences(bad) == ["register/_lint_probe.py:5 Person.objects"]
    finally:
        bad.unlink()


def events(**filters):
    return AuditEvent.objects.filter(**filters).order_by("id")


def test_each_register_page_records_exactly_who_it_showed(coordinator, place_a):
    people = [factories.make_person(place_a) for _ in range(55)]
    first = coordinator.get(at(place_a, "register:list"))
    second = coordinator.get(at(place_a, "register:list"), {"page": 2})
    assert first.status_code == second.status_code == 200
    listed = list(events(action="listed"))
    assert len(listed) == 2
    shown = [set(e.changes["shown"]) for e in listed]
    assert len(shown[0]) == 50 and len(shown[1]) == 5
    assert shown[0] | shown[1] == {p.pk for p in people}
    # and each person's own history includes the list they appeared on
    assert AuditShown.objects.filter(person_id=people[0].pk).count() == 1


def test_a_filtered_list_records_the_filter_and_who_it_showed(coordinator, place_a):
    red = factories.make_person(place_a, rating="R")
    factories.make_person(place_a, rating="G")
    coordinator.get(at(place_a, "register:list"), {"rating": "R"})
    event = events(action="listed").get()
    assert event.changes["shown"] == [red.pk]
    assert event.changes["terms"]["rating"] == "R"


def test_who_has_accessed_a_record_includes_the_lists_it_appeared_on(client_for, person_a):
    client_for(Role.KEYWORKER).get(at(person_a.place, "register:list"))
    body = client_for(Role.COORDINATOR).get(at(person_a, "people:access")).content.decode()
    assert "keyworker@a.example" in body and "Listed" in body


def test_a_form_shown_again_after_a_failed_post_is_audited(coordinator, person_a):
    before = events(action="viewed", person_id=person_a.pk).count()
    response = coordinator.post(at(person_a, "risk:event_new"), {"kind": ""})
    assert response.status_code == 200 and "Select what happened" in response.content.decode()
    viewed = events(action="viewed", person_id=person_a.pk)
    assert viewed.count() == before + 1
    assert viewed.last().changes == {"page": "event form"}


def test_the_person_page_records_one_read_however_many_panels_read(coordinator, person_a):
    coordinator.get(at(person_a, "register:person"))
    reads = events(action__in=["viewed", "listed"], person_id=person_a.pk)
    assert reads.count() == 1
    assert reads.get().changes == {"page": "record"}


def test_my_work_and_rising_risk_record_who_they_showed(client_for, cast, place_a):
    from dsr.risk import services as risk

    person = factories.make_person(place_a, rating="R")
    for kind in ("ae", "police"):  # two events in the window flag a review now
        risk.log_event(
            person=person, kind=kind, occurred_on=person.rated_on, description="", by=SYSTEM
        )
    client = client_for(Role.COORDINATOR)
    client.get(at(place_a, "work:my_work"))
    client.get(at(place_a, "register:rising_risk"))
    pages = {e.changes["page"]: e.changes["shown"] for e in events(action="listed")}
    assert pages == {"my work": [person.pk], "rising risk": [person.pk]}


def test_the_reminder_job_records_whom_its_digests_were_about(cast, place_a):
    """Each person's trail says whose digest the job read them for and to whom a digest
    about them went (the mail names no one); a run that finds nothing new to send writes
    nothing, where it wrote a list of everyone due every few minutes (an IG review)."""
    from django.db import transaction

    from dsr.actions import services as actions
    from dsr.core import audit, dates
    from dsr.risk import services as risk

    coordinator = cast[Role.COORDINATOR]
    person = factories.make_person(place_a, rating="G")
    with transaction.atomic():
        actions.open_action(
            person=person,
            description="Phone the family",
            due_on=dates.today(),
            source="other",
            owner_user=coordinator,
            by=SYSTEM,
        )
    call_command("send_reminders")
    [listed] = events(action="listed", actor_label=f"reminder job for {coordinator.email}")
    assert listed.changes["shown"] == [person.pk]
    [emailed] = events(action="emailed", object_id=str(coordinator.pk))
    assert audit.events_about(person.pk).filter(pk=emailed.pk).exists()
    quiet = factories.make_person(place_a, rating="R")  # on a list, nothing due to anyone
    risk.log_event(person=quiet, kind="ae", occurred_on=quiet.rated_on, description="", by=SYSTEM)
    since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    call_command("send_reminders")
    call_command("send_reminders")
    assert not AuditEvent.objects.filter(pk__gt=since, action__in=["listed", "emailed"]).exists()


def test_a_doors_records_cannot_be_read_as_bare_values(cast, place_a):
    factories.make_person(place_a)
    viewer = Viewer.acting_for(Membership.objects.get(user=cast[Role.COORDINATOR]), label="t")
    with pytest.raises(TypeError, match="Audited reads return records"):
        list(PEOPLE.list(viewer, purpose="x").values("given_name"))
    with pytest.raises(TypeError, match="fetched whole"):
        list(PEOPLE.list(viewer, purpose="x").iterator())


def test_a_door_answers_404_outside_scope_and_audits_the_attempt(client_for, place_a, person_b):
    from django.http import Http404

    from dsr.core import audit

    membership = Membership.objects.get(user__email="coordinator@a.example")
    viewer = Viewer(
        membership=membership, context=audit.Context(actor=None, place_id=None, actor_label="t")
    )
    with pytest.raises(Http404):
        PEOPLE.get(viewer, person_b.pk, purpose="record")
    assert not events(action="viewed", person_id=person_b.pk).exists()


def test_a_page_of_several_lists_is_one_read_of_everyone_it_showed(client_for, cast, place_a):
    """My work shows several lists (signals, reviews, actions...): one `listed` event names
    everyone they showed, not one event a list."""
    from datetime import timedelta

    from dsr.actions import services as actions
    from dsr.core import dates
    from dsr.risk import services as risk

    flagged = factories.make_person(place_a, rating="R")
    risk.log_event(
        person=flagged, kind="ae", occurred_on=flagged.rated_on, description="", by=SYSTEM
    )
    owned = factories.make_person(place_a)
    actions.open_action(
        person=owned,
        description="Ring school",
        due_on=dates.today() + timedelta(days=1),
        source="other",
        owner_user=cast[Role.COORDINATOR],
        by=SYSTEM,
    )
    before = events(action="listed").count()
    client_for(Role.COORDINATOR).get(at(place_a, "work:my_work"))
    listed = list(events(action="listed"))[before:]
    assert len(listed) == 1
    assert {flagged.pk, owned.pk} <= set(listed[0].changes["shown"])
    assert AuditShown.objects.filter(event=listed[0], person_id=owned.pk).exists()


def test_a_person_comes_with_the_place_their_viewer_already_holds(cast, place_a, person_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    membership = Membership.objects.select_related("place__settings").get(
        user=cast[Role.COORDINATOR]
    )
    viewer = Viewer.acting_for(membership, label="t")
    with CaptureQueriesContext(connection) as queries:
        person = PEOPLE.get(viewer, person_a.pk, purpose="record")
        person.place.settings  # noqa: B018 - read: nothing more is asked of the database
    assert person.place is membership.place
    assert not [q for q in queries.captured_queries if "places_place" in q["sql"]]
