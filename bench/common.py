"""What the bench's modules share: where the databases are and who the bench users are.

No Django imports here: the orchestrator (bench/__main__.py) and the load driver run
outside Django, and only the subprocesses that generate data or time SQL set it up.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/dsr_bench"
SETTINGS_MODULE = "bench.settings"

# One password for every bench user (all fictional). Hashed once by the generator.
PASSWORD = "bench-fictional-password-2026"
ADMIN_EMAIL = "bench-admin@bench.example"
EMAIL_DOMAIN = "bench.example"

# Roles and how many users of each every place gets. Several coordinators, so that each
# sign-in in one run uses its own user: a TOTP code is refused if reused (django-otp
# remembers the last time step each device accepted).
USERS_PER_ROLE = {
    "coordinator": 5,
    "keyworker": 2,
    "partner": 1,
    "viewer": 1,
    "auditor": 1,
    "place_admin": 1,
}


def user_email(role: str, number: int, place_number: int) -> str:
    return f"{role}{number}.p{place_number:02d}@{EMAIL_DOMAIN}"


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def bench_database_url() -> str:
    """BENCH_DATABASE_URL, else DATABASE_URL, but always a database of the bench's own.

    The bench drops and recreates its databases when asked to regenerate, so it never
    uses a database whose name lacks "bench" (the test database `dsr`, say): it takes
    the same server and its own `dsr_bench` there instead.
    """
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    if not url.startswith(("postgres://", "postgresql://")):
        return DEFAULT_DATABASE_URL
    if "bench" not in database_name(url):
        return with_database(url, "dsr_bench")
    return url


def small_database_url(url: str) -> str:
    return with_database(url, database_name(url) + "_small")


def app_environment(database_url: str) -> dict[str, str]:
    """Production-like settings for the served app and for in-process measurements.

    DSR_TESTING=1 only for plain HTTP on 127.0.0.1 (and a fixed key); DEBUG off;
    DSR_DEMO unset, so signing in needs the TOTP second factor; DSR_CHECK_SHAPES off, as in
    production (under test it writes every shaped query twice: ADR 0029).
    """
    env = dict(os.environ)
    for name in ("DSR_DEMO", "DEBUG", "DSR_SECURE", "SECRET_KEY", "CSRF_TRUSTED_ORIGINS"):
        env.pop(name, None)
    env.update(
        DSR_TESTING="1",
        DSR_CHECK_SHAPES="0",
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env
