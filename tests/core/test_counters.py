"""The rate-limit counters (core/counters.py): shared by every worker through the
database, and incremented atomically — what django-ratelimit needs of its cache."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import caches
from django.db import connection, connections

from dsr.core.models import RateCounter

pytestmark = pytest.mark.django_db(transaction=True)


def counters():
    return caches["counters"]


def test_add_only_adds_a_counter_that_is_not_there():
    assert counters().add("k", 0, 60) is True
    assert counters().add("k", 5, 60) is False
    assert counters().get("k") == 0
    assert counters().incr("k") == 1


def test_an_expired_counter_is_gone_and_can_be_added_again():
    counters().add("k", 3, 60)
    with time_machine.travel(timedelta(seconds=120)):
        assert counters().get("k") is None
        with pytest.raises(ValueError):
            counters().incr("k")
        assert counters().add("k", 0, 60) is True


def test_only_integers_are_kept():
    with pytest.raises(TypeError):
        counters().add("k", "text", 60)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="threads need PostgreSQL")
def test_concurrent_increments_are_never_lost():
    counters().add("busy", 0, 600)
    workers, each = 8, 25
    barrier = threading.Barrier(workers)

    def work():
        try:
            barrier.wait()
            for _ in range(each):
                counters().incr("busy")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert RateCounter.objects.get(key=counters().make_key("busy")).value == workers * each
