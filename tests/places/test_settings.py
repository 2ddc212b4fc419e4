"""Place settings (ADR 0015): every policy number editable by the place admin, held to its
range, version-checked, audited, its effect said before it is saved, applied from then on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models

from dsr.core import audit, dates
from dsr.core.access import Role
from dsr.core.models import AuditEvent, StaleVersion
from dsr.places import impact, policy, services
from dsr.places.models import PlaceSettings
from dsr.risk import services as risk
from tests import factories
from tests.factories import SYSTEM
from tests.helpers import at, error_messages


def admin_of(user, place) -> audit.Context:
    return audit.Context(
        actor=user, place_id=place.pk, actor_label=user.email, role=Role.PLACE_ADMIN
    )


def form_values(current: PlaceSettings, **changes) -> dict[str, object]:
    """The settings form as it arrives: every setting, as its control sends it."""
    data: dict[str, object] = {"version": current.version}
    for field in policy.policy_fields():
        value = changes.get(field.name, getattr(current, field.name))
        shown = policy.form_value(field, value)
        data[field.name] = shown
    return data


# --- The service -------------------------------------------------------------------------


def test_a_change_is_saved_versioned_and_audited_with_old_and_new_values(cast, place_a):
    by = admin_of(cast[Role.PLACE_ADMIN], place_a)
    saved = services.update_place_settings(
        place=place_a, values={"review_days_red": 5}, expected_version=1, by=by
    )
    assert (saved.review_days_red, saved.version) == (5, 2)
    event = AuditEvent.objects.get(action="changed", object_type="PlaceSettings")
    assert event.changes["review_days_red"] == [7, 5]
    assert event.place_id == place_a.pk


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"review_days_red": 0}, "Days between reviews when Red must be between 1 and 365"),
        ({"review_days_red": 366}, "must be between 1 and 365"),
        ({"review_days_red": "7"}, "must be a whole number"),
        ({"review_days_red": True}, "must be a whole number"),
        ({"parent_self_referral": "yes"}, "Select yes or no"),
        ({"keyworker_ratings": "RX"}, "Choose at least one of Red, Amber, Green and Blue"),
        ({"keyworker_ratings": "RR"}, "Choose at least one of Red, Amber, Green and Blue"),
        ({"register_max_age": 30}, "must be between 1 and 25"),
        ({"register_min_age": 20, "register_max_age": 18}, "must be below the birthday"),
    ],
)
def test_a_setting_out_of_range_is_refused_nothing_written_and_the_refusal_audited(
    cast, place_a, values, message
):
    by = admin_of(cast[Role.PLACE_ADMIN], place_a)
    before = list(PlaceSettings.objects.values())
    with pytest.raises(ValidationError, match=message):
        services.update_place_settings(place=place_a, values=values, expected_version=1, by=by)
    assert list(PlaceSettings.objects.values()) == before
    refused = AuditEvent.objects.get(action="refused")
    assert refused.changes["reason"] == "invalid" and refused.object_type == "place settings"


def test_a_stale_settings_change_is_refused_and_audited(cast, place_a):
    by = admin_of(cast[Role.PLACE_ADMIN], place_a)
    services.update_place_settings(
        place=place_a, values={"review_days_red": 5}, expected_version=1, by=by
    )
    with pytest.raises(StaleVersion):
        services.update_place_settings(
            place=place_a, values={"review_days_amber": 21}, expected_version=1, by=by
        )
    assert PlaceSettings.objects.get(place=place_a).review_days_amber == 28
    assert AuditEvent.objects.get(action="refused").changes["reason"] == "stale"


@pytest.mark.parametrize("who", [Role.COORDINATOR, "other place's admin"])
def test_only_the_places_own_admin_changes_its_settings(cast, place_a, place_b, who):
    if who == "other place's admin":
        admin_b = factories.make_user(place=place_b, role=Role.PLACE_ADMIN)
        by = admin_of(admin_b, place_b)
    else:
        user = cast[Role.COORDINATOR]
        by = audit.Context(actor=user, place_id=place_a.pk, actor_label="c", role=who)
    with pytest.raises(PermissionDenied):
        services.update_place_settings(
            place=place_a, values={"review_days_red": 5}, expected_version=1, by=by
        )
    assert PlaceSettings.objects.get(place=place_a).review_days_red == 7
    assert AuditEvent.objects.filter(action="refused", place_id=place_a.pk).count() == 1


def test_a_context_claiming_place_admin_without_the_membership_is_refused(cast, place_a):
    """The role in a context is not proof: the membership is read afresh."""
    forged = admin_of(cast[Role.KEYWORKER], place_a)
    with pytest.raises(PermissionDenied):
        services.update_place_settings(
            place=place_a, values={"review_days_red": 5}, expected_version=1, by=forged
        )


# --- Changes apply from the moment they are made, never rewriting history ---------------


def test_a_new_review_interval_applies_to_the_next_rating_and_leaves_set_dates_alone(cast, place_a):
    person = factories.make_person(place_a, rating="R")
    due_before = person.review_due
    services.update_place_settings(
        place=place_a,
        values={"review_days_red": 3},
        expected_version=1,
        by=admin_of(cast[Role.PLACE_ADMIN], place_a),
    )
    person.refresh_from_db()
    assert person.review_due == due_before  # the date already set stays
    assert person.ratings.get().review_due == due_before  # and so does the history
    rating = risk.rate(person=person, rating="R", rationale="Still in crisis", by=SYSTEM)
    assert rating.review_due == dates.next_working_day_on_or_after(
        dates.today() + timedelta(days=3)
    )


# --- What a change affects ----------------------------------------------------------------


def test_the_impact_of_a_shorter_review_interval_counts_the_people_it_touches(place_a):
    for _ in range(3):
        factories.make_person(place_a, rating="R")
    factories.make_person(place_a, rating="G")
    said = impact.impacts_of(place_a, {"review_days_red": [7, 3]})["review_days_red"]
    assert said[0].startswith(
        "3 people rated Red: each one's next review would be due 4 days sooner"
    )


def test_every_setting_says_what_its_change_affects(place_a):
    """A setting another step adds gets at least the rule every change follows."""
    current = place_a.settings
    for field in policy.policy_fields():
        value = getattr(current, field.name)
        other = (not value) if isinstance(value, bool) else value
        said = impact.impacts_of(place_a, {field.name: [value, other]})[field.name]
        assert said and all(isinstance(s, str) and s for s in said), field.name


def test_keyworker_eligibility_impact_counts_who_gains_and_who_loses(place_a):
    factories.make_person(place_a, rating="G")
    factories.make_person(place_a, rating="R")
    said = impact.impacts_of(place_a, {"keyworker_ratings": ["RAB", "RAGB"]})
    assert (
        "1 person would become eligible for a keyworker and 0 people would no"
        in (said["keyworker_ratings"][0])
    )


def test_a_register_age_change_says_who_is_outside_and_closes_no_one(place_a):
    person = factories.make_person(place_a, date_of_birth=factories.born_years_ago(20))
    said = impact.impacts_of(place_a, {"register_max_age": [25, 18]})["register_max_age"]
    assert "1 person on the register would be outside these ages" in said[1]
    person.refresh_from_db()
    assert person.is_open


# --- The page is generic over PlaceSettings' fields --------------------------------------


def test_every_concrete_setting_has_a_label_a_control_and_a_range_or_choice():
    for field in policy.policy_fields():
        assert policy.label_of(field), field.name
        form_field = policy.form_field(field)
        if isinstance(field, models.IntegerField):
            least, most = policy.value_range(field)
            assert least is not None and most is not None, f"{field.name} needs a range"
            assert form_field.min_value == least and form_field.max_value == most


def test_a_setting_added_to_the_model_appears_with_its_label_and_range(monkeypatch):
    from django.core.validators import MaxValueValidator, MinValueValidator

    added = models.PositiveSmallIntegerField(
        default=9,
        validators=[MinValueValidator(2), MaxValueValidator(40)],
        help_text="Days to do a new thing",
    )
    added.set_attributes_from_name("new_thing_days")
    fields = [*policy.policy_fields(), added]
    monkeypatch.setattr(policy, "policy_fields", lambda: fields)
    form_field = policy.form_field(policy.policy_field("new_thing_days"))
    assert form_field.label == "Days to do a new thing"
    assert (form_field.min_value, form_field.max_value) == (2, 40)
    with pytest.raises(ValidationError, match="Days to do a new thing must be between 2 and 40"):
        policy.clean_value(added, 41)


# --- The pages ----------------------------------------------------------------------------


def test_the_admin_sees_what_a_change_affects_before_anything_is_saved(client_for, place_a):
    for _ in range(2):
        factories.make_person(place_a, rating="R")
    client = client_for(Role.PLACE_ADMIN)
    current = PlaceSettings.objects.get(place=place_a)
    response = client.post(
        at(place_a, "places:settings_edit"), form_values(current, review_days_red=3)
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Check your changes" in body
    assert "2 people rated Red: each one&#39;s next review would be due 4 days sooner" in body
    assert PlaceSettings.objects.get(place=place_a).review_days_red == 7  # not yet

    confirmed = {**form_values(current, review_days_red=3), "confirm": "yes"}
    response = client.post(at(place_a, "places:settings_edit"), confirmed)
    assert response.status_code == 302
    assert PlaceSettings.objects.get(place=place_a).review_days_red == 3


def test_an_out_of_range_setting_on_the_page_is_refused_with_a_clear_error(client_for, place_a):
    client = client_for(Role.PLACE_ADMIN)
    current = PlaceSettings.objects.get(place=place_a)
    data = {**form_values(current, review_days_red=0), "confirm": "yes"}
    response = client.post(at(place_a, "places:settings_edit"), data)
    assert "Days between reviews when Red must be between 1 and 365" in error_messages(response)
    assert PlaceSettings.objects.get(place=place_a).version == 1
    assert AuditEvent.objects.filter(action="refused", place_id=place_a.pk).count() == 1


def test_a_stale_settings_page_keeps_what_was_typed_and_shows_the_new_values(
    client_for, cast, place_a
):
    client = client_for(Role.PLACE_ADMIN)
    loaded = PlaceSettings.objects.get(place=place_a)
    services.update_place_settings(
        place=place_a,
        values={"review_days_amber": 21},
        expected_version=1,
        by=admin_of(cast[Role.PLACE_ADMIN], place_a),
    )
    data = {**form_values(loaded, review_days_red=3), "confirm": "yes"}
    response = client.post(at(place_a, "places:settings_edit"), data)
    body = response.content.decode()
    assert "Someone else changed these settings" in " ".join(error_messages(response))
    assert 'id="changed-since"' in body and 'value="3"' in body
    saved = PlaceSettings.objects.get(place=place_a)
    assert (saved.review_days_red, saved.review_days_amber) == (7, 21)


def test_nothing_changed_is_said_not_saved(client_for, place_a):
    client = client_for(Role.PLACE_ADMIN)
    current = PlaceSettings.objects.get(place=place_a)
    response = client.post(at(place_a, "places:settings_edit"), form_values(current))
    assert "You have not changed any setting" in error_messages(response)


def test_the_settings_page_lists_every_setting_in_words(client_for, place_a):
    body = client_for(Role.VIEWER).get(at(place_a, "places:settings")).content.decode()
    for name, label, _value in policy.rows(place_a.settings):
        assert f'id="setting-{name}"' in body and label.replace("'", "&#39;") in body
    assert "Red, Amber, Blue" in body
    assert "Change settings" not in body  # a viewer reads them only


def test_the_check_page_costs_the_same_queries_however_many_people(client_for, place_a):
    from tests.helpers import count_queries

    client = client_for(Role.PLACE_ADMIN)
    current = PlaceSettings.objects.get(place=place_a)
    changed = form_values(
        current,
        review_days_red=3,
        review_days_amber=21,
        review_due_soon_days=10,
        keyworker_max_age=18,
        register_max_age=24,
    )
    url = at(place_a, "places:settings_edit")
    client.post(url, changed)
    few = count_queries(lambda: client.post(url, changed))
    for rating in "RAGBR" * 4:
        factories.make_person(place_a, rating=rating)
    many = count_queries(lambda: client.post(url, changed))
    assert many == few


def test_step_6_settings_say_what_a_change_affects(place_a, cast):
    from datetime import timedelta

    from dsr.consent import services as consent
    from dsr.core import dates
    from dsr.keywork import services as keywork
    from dsr.people import services as people

    person = factories.make_person(place_a, rating="R")
    people.add_network_member(person=person, name="Ola", started_on=dates.today(), by=SYSTEM)
    keywork.allocate_keyworker(
        person=person,
        keyworker=cast[Role.KEYWORKER],
        started_on=dates.today() - timedelta(days=10),
        by=SYSTEM,
    )
    said = impact.impacts_of(place_a, {"keyworker_contact_days": [14, 7]})
    assert (
        "1 of the place's keyworker allocations would have a contact overdue, instead of 0"
        in (said["keyworker_contact_days"][0])
    )
    consent.record_consent(
        person=person,
        given_by="parental",
        basis="parental",
        consenter="Mum",
        given_on=dates.today(),
        evidence="signed_form",
        by=SYSTEM,
    )
    said = impact.impacts_of(place_a, {"consent_reconfirm_months": [12, 6]})
    assert "The 1 person whose consent is recorded now keep" in said["consent_reconfirm_months"][1]
    factories.make_referral(place_a, received_on=dates.today() - timedelta(days=6))
    said = impact.impacts_of(place_a, {"first_contact_working_days": [10, 1]})
    assert "1 would be overdue, instead of 0 now" in said["first_contact_working_days"][0]
    said = impact.impacts_of(place_a, {"parent_self_referral": [False, True]})
    assert any(f"/refer/{place_a.pk}/" in s for s in said["parent_self_referral"])
