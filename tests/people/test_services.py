"""The person services: rules hold whoever calls them (views, commands, demo)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from dsr.core import dates
from dsr.core.models import StaleVersion
from dsr.people import services
from dsr.people.models import Person
from tests import factories
from tests.factories import SYSTEM, born_years_ago, person_data


def test_stale_version_is_refused_and_the_newer_data_are_kept(place_a):
    person = factories.make_person(place_a, given_name="Sam")
    loaded_version = person.version
    services.update_person(
        person=person, data={"given_name": "Samuel"}, expected_version=loaded_version, by=SYSTEM
    )
    with pytest.raises(StaleVersion):
        services.update_person(
            person=Person.objects.get(pk=person.pk),
            data={"given_name": "Sammy"},
            expected_version=loaded_version,
            by=SYSTEM,
        )
    person.refresh_from_db()
    assert person.given_name == "Samuel"
    assert person.version == loaded_version + 1


def test_one_open_record_per_nhs_number(place_a, place_b):
    person = factories.make_person(place_a)
    with pytest.raises(ValidationError, match="already an open record"):
        factories.make_person(place_a, nhs_number=person.nhs_number)
    with pytest.raises(ValidationError, match="appears to be on another place's register"):
        factories.make_person(place_b, nhs_number=person.nhs_number)


def test_a_closed_record_does_not_block_a_new_referral_with_the_same_nhs_number(place_a):
    person = factories.make_person(place_a)
    services.close_record(
        person=person,
        reason="risk_reduced",
        closed_on=dates.today(),
        note="",
        expected_version=1,
        by=SYSTEM,
    )
    again = factories.make_person(place_a, nhs_number=person.nhs_number)
    assert again.is_open


def test_the_database_itself_refuses_a_second_open_record_for_an_nhs_number(place_a):
    from django.db import IntegrityError, transaction

    person = factories.make_person(place_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.create(place=place_a, **person_data(nhs_number=person.nhs_number))


@pytest.mark.parametrize("years", [25, 26, 40])
def test_ages_outside_the_register_range_are_refused(place_a, years):
    with pytest.raises(ValidationError, match="up to their 25th birthday"):
        factories.make_person(place_a, date_of_birth=born_years_ago(years))


def test_the_age_range_is_a_place_setting(db):
    place = factories.make_place("Narrow", register_max_age=18)
    with pytest.raises(ValidationError, match="up to their 18th birthday"):
        factories.make_person(place, date_of_birth=born_years_ago(18))
    assert factories.make_person(place, date_of_birth=born_years_ago(17)).age == 17


def test_a_newborn_and_a_24_year_old_are_both_accepted(place_a):
    assert factories.make_person(place_a, date_of_birth=dates.today()).age == 0
    assert factories.make_person(place_a, date_of_birth=born_years_ago(24)).age == 24


def test_a_future_date_of_birth_is_refused(place_a):
    with pytest.raises(ValidationError, match="today or in the past"):
        factories.make_person(place_a, date_of_birth=dates.today() + timedelta(days=1))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("given_name", "Line1\r\nLine2", "must be on one line"),
        ("given_name", "Tab\there", "must be on one line"),
        ("family_name", "Esc\x1b[31mRed", "control characters"),
        ("family_name", "Bell\x07", "control characters"),
        ("family_name", "\u202eeeffO", "reverse the text"),
        ("family_name", "\u200b", "Enter the family name"),
        ("family_name", " \ufeff\u200b ", "Enter the family name"),
        ("family_name", "\u3164", "Enter the family name"),
        ("family_name", "\u2800\u034f", "Enter the family name"),
        ("given_name", "Sam\u2028Jones", "must be on one line"),
    ],
)
def test_a_name_with_control_or_invisible_characters_is_refused(place_a, field, value, message):
    """Each was saved as typed (found by a review): a terminal's escape codes, a line break,
    a right-to-left override that shows the name backwards, a name that is only a
    zero-width space and looks blank."""
    with pytest.raises(ValidationError, match=message):
        factories.make_person(place_a, **{field: value})
    assert not Person.objects.exists()


def test_notes_keep_their_line_breaks_and_names_their_accents_and_marks(place_a):
    person = factories.make_person(
        place_a,
        given_name="Zoë \u200fرنا",  # a right-to-left mark is part of writing the name
        key_safety_information="Frightened of dogs.\r\nCall mum first.\tAlways.",
    )
    person.refresh_from_db()
    assert person.given_name == "Zoë \u200fرنا"
    assert "\r\nCall mum first.\tAlways." in person.key_safety_information


def test_duplicates_match_nhs_number_or_name_and_date_of_birth_with_accents_folded(
    place_a, place_b
):
    first = factories.make_person(place_a, given_name="Siân", family_name="Lee", nhs_number="")
    second = factories.make_person(place_b)
    by_name = services.find_duplicates(
        place=place_a,
        nhs="",
        given_name="sian",
        family_name="LEE ",
        date_of_birth=first.date_of_birth,
        by=SYSTEM,
    )
    assert by_name.here == [(first.pk, "same name and date of birth")]
    assert not by_name.elsewhere
    by_number = services.find_duplicates(
        place=place_a,
        nhs=second.nhs_number,
        given_name="X",
        family_name="Y",
        date_of_birth=None,
        by=SYSTEM,
    )
    # another place's record: that it exists, never who or where
    assert by_number.here == [] and by_number.elsewhere


def test_closing_keeps_the_record_and_refuses_to_close_twice(place_a):
    person = factories.make_person(place_a)
    services.close_record(
        person=person,
        reason="moved_out_of_area",
        closed_on=dates.today(),
        note="",
        expected_version=1,
        by=SYSTEM,
    )
    person.refresh_from_db()
    assert person.status == "closed" and person.closure_reason == "moved_out_of_area"
    with pytest.raises(ValidationError, match="already closed"):
        services.close_record(
            person=person,
            reason="died",
            closed_on=dates.today(),
            note="",
            expected_version=2,
            by=SYSTEM,
        )


def test_care_records_cannot_be_deleted(place_a):
    person = factories.make_person(place_a)
    with pytest.raises(TypeError, match="never deleted"):
        person.delete()
    assert Person.objects.filter(pk=person.pk).exists()


def test_unknown_fields_are_refused_by_the_service(place_a):
    person = factories.make_person(place_a)
    with pytest.raises(ValueError, match="Not Person fields"):
        services.update_person(person=person, data={"place_id": 2}, expected_version=1, by=SYSTEM)


@pytest.mark.parametrize("label", ["Name", "Job title", "Where"])
def test_every_short_field_is_one_line_and_every_note_may_have_paragraphs(label):
    """Only the invitation's names were one line: a place's, a care network member's, an
    attendee's, a venue still took line breaks and tabs (found by a review)."""
    from dsr.core import validation

    for broken in ["Riverside\r\nBcc: x@example.org", "SENCo\tLead"]:
        with pytest.raises(ValidationError, match="one line"):
            validation.text(broken, field="f", label=label, max_length=150, required=True)
    note = "First line.\r\nSecond,\tindented."
    assert validation.text(note, field="f", label="Note", max_length=2000, required=True) == note


def test_a_place_is_named_on_one_line(place_a):
    with pytest.raises(ValidationError, match="one line"):
        factories.make_place("Riverside\r\nBcc: x@example.org")
