"""On PostgreSQL, timestamps are read by psycopg's C loader (core/timestamps.py), and every
value comes back exactly as Django's own loader gives it: the same instant, in UTC."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import BaseTzLoader

from dsr.core.timestamps import UTCTimestamptzLoader, use_fast_timestamps

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="psycopg's loaders"),
]

TEXTS = [
    "2026-12-01 23:01:07.123456+00",
    "2026-03-29 01:30:00+01",  # the hour the clocks go forward in London
    "2026-10-25 01:30:00.5-05:30",
    "1970-01-01 00:00:00+00",
    "2000-02-29 12:00:00.000001+14",
    "9999-12-31 23:59:59.999999+00",
    "0001-01-01 00:00:00+00",
]


class DjangosLoader(BaseTzLoader):
    timezone = datetime.UTC


def _read(texts):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT value::timestamptz, value::timestamptz::text FROM unnest(%s::text[]) value",
            [texts],
        )
        return cursor.fetchall()


def test_a_connection_in_utc_reads_timestamps_with_psycopgs_loader():
    connection.ensure_connection()
    loader = connection.connection.adapters.get_loader(1184, 0)  # timestamptz, text
    assert loader is UTCTimestamptzLoader


def test_every_value_is_the_one_djangos_loader_gives():
    django_loader = DjangosLoader(1184, connection.connection)
    for value, text in _read(TEXTS):
        expected = django_loader.load(text.encode())
        assert value == expected
        assert value.tzinfo is datetime.UTC and value.utcoffset() == datetime.timedelta(0)
        assert (value.year, value.microsecond) == (expected.year, expected.microsecond)


def test_a_model_reads_back_the_instant_it_wrote():
    from dsr.accounts.models import User
    from tests import factories

    user = factories.make_user(email="timestamps@example.org")
    instant = datetime.datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=datetime.UTC)
    User.objects.filter(pk=user.pk).update(last_login=instant)
    read = User.objects.get(pk=user.pk).last_login
    assert read == instant and read.tzinfo is datetime.UTC


def test_a_connection_in_another_zone_keeps_djangos_loader():
    connection.ensure_connection()
    adapters = connection.connection.adapters
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'Europe/London'")
        adapters.register_loader("timestamptz", DjangosLoader)
        use_fast_timestamps(None, connection)
        assert adapters.get_loader(1184, 0) is DjangosLoader
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
        use_fast_timestamps(None, connection)
    assert adapters.get_loader(1184, 0) is UTCTimestamptzLoader
