"""A cache for counters, in the database, with atomic increments: what django-ratelimit
counts the public pages' requests in (ADR 0020).

django-ratelimit needs a cache that every worker and server shares and that increments
atomically. Django's database cache shares but does not increment atomically (it reads,
adds and writes back), and the app servers keep no state of their own (sessions and locks
live in PostgreSQL). So this backend keeps integers only, in `core.RateCounter`, and
increments them in one statement (`UPDATE ... SET value = value + n ... RETURNING value`),
which PostgreSQL and SQLite both run atomically.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.db import connection, transaction
from django.utils import timezone

from dsr.core.models import RateCounter

TABLE = RateCounter._meta.db_table
CULL_EVERY = 500  # adds between sweeps of expired counters


class CounterCache(BaseCache):
    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        self._adds = 0

    def _expiry(self, timeout: Any) -> Any:
        if timeout is DEFAULT_TIMEOUT:
            timeout = self.default_timeout
        seconds = 10 * 365 * 24 * 3600 if timeout is None else float(timeout)
        return timezone.now() + timedelta(seconds=seconds)

    @staticmethod
    def _integer(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("The counter cache holds integers only")
        return value

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> bool:
        key = self.make_and_validate_key(key, version=version)
        now = timezone.now()
        self._adds += 1
        if self._adds % CULL_EVERY == 0:
            self.cull()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f'DELETE FROM {TABLE} WHERE "key" = %s AND expires <= %s',  # noqa: S608
                [key, now],
            )
            cursor.execute(
                f'INSERT INTO {TABLE} ("key", value, expires) VALUES (%s, %s, %s) '  # noqa: S608
                'ON CONFLICT ("key") DO NOTHING',
                [key, self._integer(value), self._expiry(timeout)],
            )
            return bool(cursor.rowcount == 1)

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> int:
        key = self.make_and_validate_key(key, version=version)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {TABLE} SET value = value + %s "  # noqa: S608
                'WHERE "key" = %s AND expires > %s RETURNING value',
                [self._integer(delta), key, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            raise ValueError(f"Key '{key}' not found")
        return int(row[0])

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        found = (
            RateCounter.objects.filter(key=key, expires__gt=timezone.now())
            .values_list("value", flat=True)
            .first()
        )
        return default if found is None else found

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        key = self.make_and_validate_key(key, version=version)
        RateCounter.objects.update_or_create(
            key=key, defaults={"value": self._integer(value), "expires": self._expiry(timeout)}
        )

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        return bool(RateCounter.objects.filter(key=key).update(expires=self._expiry(timeout)))

    def delete(self, key: Any, version: Any = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        deleted, _ = RateCounter.objects.filter(key=key).delete()
        return bool(deleted)

    def has_key(self, key: Any, version: Any = None) -> bool:
        return self.get(key, version=version) is not None

    def clear(self) -> None:
        RateCounter.objects.all().delete()

    def cull(self) -> int:
        """Forget counters whose window has passed."""
        deleted, _ = RateCounter.objects.filter(expires__lte=timezone.now()).delete()
        return int(deleted)
