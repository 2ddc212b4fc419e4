"""The public self-referral form: no sign-in, only where the place takes self-referrals,
hostile input refused, a reference given, nothing about anyone else revealed."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from dsr.core import dates
from dsr.core.models import AuditEvent
from dsr.referrals.models import Referral, Source
from tests import factories
from tests.helpers import error_messages


@pytest.fixture
def taking(place_a):
    place_a.settings.parent_self_referral = True
    place_a.settings.save()
    return place_a


def url(place) -> str:
    return reverse("public:refer", args=[place.pk])


def answers(**overrides):
    born = dates.add_years(dates.today(), -9)
    data = {
        "referrer_name": "Sam Okafor",
        "referrer_role": "Parent",
        "referrer_phone": "07700 900 123",
        "referrer_email": "",
        "given_name": "Robin",
        "family_name": "Okafor",
        "date_of_birth_day": born.day,
        "date_of_birth_month": born.month,
        "date_of_birth_year": born.year,
        "nhs_number": "",
        "postcode": "",
        "reason": "He is hitting out at home and school has excluded him",
        "current_risks": "I cannot keep him safe at night",
        "agree": "on",
        "website": "",
    }
    data.update(overrides)
    return data


def test_a_parent_refers_without_signing_in_and_gets_a_reference(client, taking):
    response = client.post(url(taking), answers())
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.source == Source.SELF and referral.consent_from == "Sam Okafor"
    sent = client.get(response["Location"]).content.decode()
    assert referral.reference in sent and "within 5 working days" in sent
    event = AuditEvent.objects.get(object_type="Referral", action="created")
    assert event.actor_label == "public self-referral form" and event.place_id == taking.pk


def test_where_the_place_does_not_take_them_the_page_explains_how_to_be_referred(client, place_a):
    page = client.get(url(place_a)).content.decode()
    assert "referrals to the dynamic support team come from professionals" in page
    assert client.post(url(place_a), answers()).status_code == 200
    assert not Referral.objects.exists()


def test_the_confirmation_says_nothing_about_whether_the_child_is_known(client, taking):
    known = factories.make_person(taking, given_name="Robin", family_name="Okafor")
    response = client.post(
        url(taking),
        answers(
            date_of_birth_day=known.date_of_birth.day,
            date_of_birth_month=known.date_of_birth.month,
            date_of_birth_year=known.date_of_birth.year,
            nhs_number=known.nhs_number,
        ),
    )
    sent = Client().get(response["Location"])  # a fresh visitor has no reference to see
    assert sent.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Okafor" not in page and known.nhs_number not in page


def test_a_filled_honeypot_looks_accepted_and_writes_nothing_but_the_refusal(client, taking):
    response = client.post(url(taking), answers(website="http://spam.example"))
    assert response.status_code == 302
    assert "R-" in client.get(response["Location"]).content.decode()
    assert not Referral.objects.exists()
    refusal = AuditEvent.objects.get(action="denied", place_id=taking.pk)
    assert refusal.changes["reason"] == "honeypot"


def test_missing_answers_get_plain_english_errors(client, taking):
    response = client.post(url(taking), answers(reason="", agree="", referrer_phone=""))
    messages = error_messages(response)
    assert "Tell us what is happening" in messages
    assert "Tick the box to say you agree, so that we can help" in messages
    assert not Referral.objects.exists()
    response = client.post(url(taking), answers(referrer_phone=""))
    assert "Enter a phone number or an email address" in error_messages(response)


def test_a_body_too_large_is_refused_before_it_is_read(client, taking):
    response = client.post(url(taking), answers(reason="x" * 200_000))
    assert response.status_code == 413
    assert not Referral.objects.exists()


def _as_a_browser_sends(client, place, data):
    """Posted as a browser posts a form: URL-encoded, each byte of UTF-8 as %XX."""
    from urllib.parse import urlencode

    body = urlencode(data)
    return client.post(url(place), body, content_type="application/x-www-form-urlencoded")


@pytest.mark.parametrize("character", ["أ", "😀"])
def test_answers_within_their_limits_are_taken_in_any_script(client, taking, character):
    """Found by a review: two answers of 3,900 Arabic letters (or 1,500 emoji), each within
    its 4,000, were refused whole as too long (a 413) at a cap of 32 KiB."""
    full = character * (4000 // len(character.encode("utf-16-le")) * 2)
    response = _as_a_browser_sends(
        client, taking, answers(reason=full[:3900], current_risks=full[:3900])
    )
    assert response.status_code == 302, error_messages(response)
    assert Referral.objects.get().reason == full[:3900]


@pytest.mark.parametrize(
    ("field", "given", "message"),
    [
        ("referrer_phone", "call me maybe", "Enter a phone number"),
        ("referrer_phone", "٠٧٧٠٠ ٩٠٠ ١٢٣", "Enter a phone number"),
        ("referrer_phone", "<script>", "Enter a phone number"),
        ("referrer_phone", "123", "Enter a phone number"),
        ("postcode", "٣٣٣", "Enter a real postcode"),
        ("postcode", "<script>", "Enter a real postcode"),
        ("postcode", "LS1", "Enter a real postcode"),
        ("postcode", "ß1 1AA", "Enter a real postcode"),  # not "SS1 1AA" (a review)
        ("postcode", "ſ1 1AA", "Enter a real postcode"),  # not "S1 1AA"
        ("postcode", "ı1 1AA", "Enter a real postcode"),  # not "I1 1AA"
        ("referrer_name", " \u200b ", "Enter your name"),
    ],
)
def test_a_phone_number_and_postcode_must_be_real(client, taking, field, given, message):
    """Found by a review: the form took "call me maybe" as the number it says it will call."""
    response = client.post(url(taking), answers(**{field: given}))
    assert any(m.startswith(message) for m in error_messages(response)), error_messages(response)
    assert not Referral.objects.exists()


@pytest.mark.parametrize(
    ("phone", "postcode", "kept"),
    [("+44 (0)113 496 0000", "ls14ap", "LS1 4AP"), ("0113-496-0000", " zz99 3qx ", "ZZ99 3QX")],
)
def test_real_numbers_and_postcodes_are_kept_as_written_out(client, taking, phone, postcode, kept):
    assert (
        client.post(url(taking), answers(referrer_phone=phone, postcode=postcode)).status_code
        == 302
    )
    referral = Referral.objects.get()
    assert (referral.referrer_phone, referral.postcode) == (phone, kept)


def test_files_are_refused(client, taking):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("a.txt", b"hello")
    response = client.post(url(taking), {**answers(), "attachment": upload})
    assert response.status_code == 400
    assert not Referral.objects.exists()


def test_each_address_may_refer_only_so_often(client, taking, settings):
    settings.SELF_REFERRAL_RATE = "2/d"
    for _ in range(2):
        assert client.post(url(taking), answers()).status_code == 302
    refused = client.post(url(taking), answers())
    assert refused.status_code == 429
    assert Referral.objects.count() == 2
    assert AuditEvent.objects.filter(action="denied", changes__reason="rate limit: self-referrals")
    # another address is not held up by this one
    other = Client(REMOTE_ADDR="192.0.2.77")
    assert other.post(url(taking), answers()).status_code == 302


def test_repeated_posts_are_limited_and_the_first_refusal_audited(client, taking, settings):
    settings.SELF_REFERRAL_ATTEMPTS_RATE = "3/h"
    for _ in range(3):
        assert client.post(url(taking), answers(reason="")).status_code == 200
    for _ in range(3):
        assert client.post(url(taking), answers()).status_code == 429
    assert not Referral.objects.exists()
    refusals = AuditEvent.objects.filter(
        action="denied", changes__reason="rate limit: self-referral posts"
    )
    assert refusals.count() == 1


def test_an_unknown_place_is_not_found(client, db):
    assert client.get(reverse("public:refer", args=[987654])).status_code == 404
