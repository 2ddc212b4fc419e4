"""The outbox's tests send to a mail server on a real socket (tests/core/fake_smtp.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.core.fake_smtp import FakeSMTP, running


@pytest.fixture
def smtp_server(settings) -> Iterator[FakeSMTP]:
    with running() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.server_address[1]
        settings.EMAIL_TIMEOUT = 1
        yield server
