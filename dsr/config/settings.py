"""Settings, read from the environment with safe defaults (see README, "Settings")."""

from __future__ import annotations

import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from dsr.core import keyring

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Demo mode: fictional data, no second factor, a fixed development secret.
DSR_DEMO = env_bool("DSR_DEMO")
DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DSR_DEMO or DEBUG or env_bool("DSR_TESTING"):
        SECRET_KEY = "insecure-demo-key-" + "x" * 40  # noqa: S105 - never used outside demo/tests
    else:
        raise ImproperlyConfigured("SECRET_KEY must be set unless DSR_DEMO=1")

# The audit trail's keys (ADR 0014): "id:secret" pairs, comma-separated, the last one signing
# new events. Outside the database, so that whoever can edit the database cannot forge,
# re-link or re-seal the trail. Keep old keys listed after a rotation: they verify old events.
AUDIT_KEYS = env_list("AUDIT_KEYS")
if not AUDIT_KEYS:
    if DSR_DEMO or DEBUG or env_bool("DSR_TESTING"):
        AUDIT_KEYS = ["demo:insecure-demo-audit-key-" + "x" * 32]
    else:
        raise ImproperlyConfigured("AUDIT_KEYS must be set unless DSR_DEMO=1")
# While a new key reaches every server, the key that signs: an id of AUDIT_KEYS. Empty, the
# last of them (docs/deploy.md section 6, ADR 0044).
AUDIT_SIGNING_KEY = os.environ.get("AUDIT_SIGNING_KEY", "").strip()
# Read here as the chains read them, so that a server with keys it cannot use refuses to
# start rather than start healthy and fail every audited page (an operator's review).
try:
    keyring.parse(tuple(AUDIT_KEYS), AUDIT_SIGNING_KEY)
except ValueError as unusable:
    raise ImproperlyConfigured(str(unusable)) from unusable

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "pgtrigger",
    "django_ratelimit",
    "dsr.core",
    "dsr.accounts",
    "dsr.places",
    "dsr.people",
    "dsr.consent",
    "dsr.actions",
    "dsr.risk",
    "dsr.keywork",
    "dsr.hospital",
    "dsr.reviews",
    "dsr.meetings",
    "dsr.register",
    "dsr.work",
    "dsr.referrals",
    "dsr.demo",
]

MIDDLEWARE = [
    "dsr.core.proxy.ClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Outside all but the two above, so that every response carries them: a redirect to
    # add a slash and the 400 for a bad Host header too (CommonMiddleware's, a review).
    "dsr.core.middleware.SecurityHeadersMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "dsr.core.middleware.FetchMetadataMiddleware",  # another site's <img>, fetch, frame: no
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "dsr.core.middleware.RequestIdMiddleware",
    "dsr.core.logs.AccessLogMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "dsr.accounts.backends.SessionUserMiddleware",  # Django's, one query fewer
    "dsr.accounts.backends.SessionDeviceMiddleware",  # django-otp's, one query fewer
    "dsr.accounts.middleware.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "dsr.work.navigation.FreshCountMiddleware",
    "dsr.places.middleware.MembershipsMiddleware",
    "axes.middleware.AxesMiddleware",
]

# How long the navigation's "My work (N)" is kept before it is counted again (a form sent
# recounts at once): dsr/work/navigation.py.
WORK_COUNT_SECONDS = int(os.environ.get("WORK_COUNT_SECONDS", 60))

ROOT_URLCONF = "dsr.config.urls"
# The development server's (`make demo`); gunicorn serves dsr.config.wsgi, which refuses demo mode.
WSGI_APPLICATION = "dsr.config.devserver.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "dsr" / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "dsr.config.jinja2.environment"},
    },
]

VAR_DIR.mkdir(exist_ok=True)
# Where `manage.py checkpoint_audit` appends each chain's head: outside the database.
# Each place's events go into this many chains, each process writing to one (ADR 0027): the
# workers serving one busy place queue on a lane's head, not all on one.
AUDIT_CHAIN_LANES = max(1, int(os.environ.get("AUDIT_CHAIN_LANES", 16)))
AUDIT_CHECKPOINT_FILE = os.environ.get("AUDIT_CHECKPOINT_FILE") or str(
    VAR_DIR / "audit-checkpoints.jsonl"
)
# verify_audit fails if an event older than this is in no checkpoint: the checkpoint job has
# stopped (it runs every 5 minutes in housekeeping), and cuts since would not show.
AUDIT_CHECKPOINT_MAX_LAG_MINUTES = int(os.environ.get("AUDIT_CHECKPOINT_MAX_LAG_MINUTES", 60))
(VAR_DIR / "static").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'dsr.sqlite3'}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions serialise writers up front, so the audit chain's
    # read-last-then-append never races (ADR 0004).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    # No request waits without bound on a lock or a statement (0 turns a limit off; the
    # bench's data generator does, for its bulk COPY).
    DATABASES["default"]["OPTIONS"] = {
        # A database host that takes the connection and never answers (a failover, a full
        # network buffer) fails the request in seconds, not at the worker's timeout with
        # gunicorn's bare page and /health/ silent (found by a review).
        "connect_timeout": int(os.environ.get("DB_CONNECT_TIMEOUT_S", 5)),
        "options": (
            f"-c lock_timeout={int(os.environ.get('DB_LOCK_TIMEOUT_MS', 5000))}"
            f" -c statement_timeout={int(os.environ.get('DB_STATEMENT_TIMEOUT_MS', 30000))}"
            # Solid-state storage: a random read costs little more than a sequential one.
            # At PostgreSQL's default (4, for spinning disks) the planner read every open
            # stay in the country to find one place's, by the unique index on the person
            # (5 ms instead of 2, make bench). Set DB_RANDOM_PAGE_COST=4 on spinning disks.
            f" -c random_page_cost={float(os.environ.get('DB_RANDOM_PAGE_COST', 1.1))}"
        ),
    }
    prepare_after = int(os.environ.get("DB_PREPARE_THRESHOLD", 2))
    if prepare_after > 0:
        # Parameters sent apart from the statement, and a statement a connection has run
        # `prepare_after` times kept prepared on it: PostgreSQL parses and plans each of a
        # page's statements once per connection, not on every request. 0 turns it off (a
        # pooler in transaction mode without prepared-statement support): docs/deploy.md.
        DATABASES["default"]["OPTIONS"] |= {
            "server_side_binding": True,
            "prepare_threshold": prepare_after,
        }
# A connection that died (a database restart) is replaced, not used for a 500.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "dsr.accounts.backends.SessionUserBackend",  # the model backend (accounts/backends.py)
]
PASSWORD_HASHERS = ["dsr.accounts.hashers.Argon2idHasher"]  # RFC 9106: t=3, m=64 MiB, p=4
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:sign_in"
LOGIN_REDIRECT_URL = "home"

# Sessions: database-backed, 15 minutes idle (renewed at most once a minute),
# 10 hours absolute (SessionLifetimeMiddleware).
# Under test, every query written once a shape (core/compiled.py) is also written whole by
# the ORM, and the two must be the same SQL with the same values.
DSR_CHECK_SHAPES = env_bool("DSR_CHECK_SHAPES", env_bool("DSR_TESTING"))

SESSION_ENGINE = "dsr.accounts.sessions"  # database sessions that know their user
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", 15 * 60))
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_ABSOLUTE_SECONDS = int(os.environ.get("SESSION_ABSOLUTE_SECONDS", 10 * 60 * 60))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Flash messages can name a child ("… has been added to the register"): kept in the
# server-side session, never in a cookie of their own.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# Lockout (django-axes): per user + IP address.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_CALLABLE = "dsr.accounts.lockout.username_from"
AXES_LOCKOUT_CALLABLE = "dsr.accounts.views.locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The real client (core/proxy.py); an IPv6 client's /64, as the sign-in rate limit counts it.
AXES_CLIENT_IP_CALLABLE = "dsr.accounts.lockout.client_from"
# Attempts while locked out do not push the end of the lockout further away.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# How long `prune_lockouts` keeps django-axes' rows (the audit trail keeps sign-ins for good).
LOCKOUT_RECORDS_DAYS = int(os.environ.get("LOCKOUT_RECORDS_DAYS", 90))
# The proxies (addresses or networks) whose X-Forwarded-For and X-Forwarded-Proto are
# believed; from anyone else those headers are dropped (core/proxy.py). None by default.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")

OTP_TOTP_ISSUER = "Dynamic Support Register"

# Rate limits on the public pages (django-ratelimit), counted in the database so that every
# worker and server counts the same requests (core/counters.py, ADR 0020).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "counters": {"BACKEND": "dsr.core.counters.CounterCache"},
}
RATELIMIT_USE_CACHE = "counters"
# Our counter backend is not on django-ratelimit's list; it increments atomically (tested:
# tests/core/test_counters.py), which is what the list stands for.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
# Per client address: self-referral form posts, and referrals made (README, "Settings").
SELF_REFERRAL_ATTEMPTS_RATE = os.environ.get("SELF_REFERRAL_ATTEMPTS_RATE", "20/h")
SELF_REFERRAL_RATE = os.environ.get("SELF_REFERRAL_RATE", "5/d")


def _rate(name: str, default: str) -> str:
    """A django-ratelimit rate from the environment ("30/10m": 30 per 10 minutes), checked
    here so that a typo stops the server starting rather than failing every sign-in."""
    rate = os.environ.get(name, default).strip()
    if not re.fullmatch(r"[1-9][0-9]*/(?:[1-9][0-9]*)?[smhd]", rate):
        raise ImproperlyConfigured(f"{name} must be a rate such as {default!r}, not {rate!r}")
    return rate


# Per client address, refusals on the sign-in pages before the address is refused for the
# rest of the window, so that a flood cannot fill the system audit chain (ADR 0031):
# wrong passwords, codes and NHS sign-ins together; set-up links that cannot be used.
SIGN_IN_FAILURES_RATE = _rate("SIGN_IN_FAILURES_RATE", "30/10m")
SET_UP_LINK_FAILURES_RATE = _rate("SET_UP_LINK_FAILURES_RATE", "20/h")
# Per account, passwords that were right (each an Argon2 hash) before that account's
# password posts are answered 429, unchecked, for the rest of the window (ADR 0031).
SIGN_IN_PASSWORDS_PER_ACCOUNT_RATE = _rate("SIGN_IN_PASSWORDS_PER_ACCOUNT_RATE", "20/10m")


# NHS sign-in by OpenID Connect (ADR 0017): a provider is on when its issuer is set. CIS2
# authenticates us with private_key_jwt (OIDC_CIS2_PRIVATE_KEY_FILE, a PEM file, and its
# key id); Entra ID (NHSmail) with a client secret. `MFA_AMR` / `MFA_ACR`: the `amr` and `acr`
# values that mean the provider did multi-factor authentication (then it stands in for the
# local second factor); confirm them with the provider.
def _oidc_provider(key: str, label: str, mfa_amr: str, mfa_acr: str) -> dict[str, object] | None:
    prefix = f"OIDC_{key.upper()}_"
    issuer = os.environ.get(prefix + "ISSUER", "").strip()
    if not issuer:
        return None
    key_file = os.environ.get(prefix + "PRIVATE_KEY_FILE", "").strip()
    return {
        "label": os.environ.get(prefix + "LABEL") or label,
        "issuer": issuer,
        "client_id": os.environ.get(prefix + "CLIENT_ID", ""),
        "client_secret": os.environ.get(prefix + "CLIENT_SECRET", ""),
        "private_key": Path(key_file).read_text() if key_file else "",
        "key_id": os.environ.get(prefix + "KEY_ID", ""),
        "scopes": os.environ.get(prefix + "SCOPES", "openid email profile"),
        "acr_values": os.environ.get(prefix + "ACR_VALUES", ""),
        "mfa_amr": env_list(prefix + "MFA_AMR", mfa_amr),
        "mfa_acr": env_list(prefix + "MFA_ACR", mfa_acr),
        "timeout": float(os.environ.get(prefix + "TIMEOUT", 10)),
    }


OIDC_PROVIDERS = {
    key: config
    for key, config in {
        "cis2": _oidc_provider(
            "cis2", "NHS Care Identity Service 2", "", "AAL2_OR_ABOVE,AAL2_ANY,AAL3_ANY"
        ),
        "entra": _oidc_provider("entra", "NHSmail (Microsoft Entra ID)", "mfa", ""),
    }.items()
    if config is not None
}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/assets/"  # nhsuk-frontend's CSS refers to /assets/images/...
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or VAR_DIR / "static")
STATICFILES_DIRS = [BASE_DIR / "dsr" / "static"]
# Production serves what `make static` collected once (hashed names, cached for a year, so
# a server needs no Node); demo and tests serve the source folders as they are.
COLLECTED_STATIC = env_bool(
    "DSR_COLLECTED_STATIC", not (DSR_DEMO or DEBUG or env_bool("DSR_TESTING"))
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "dsr.core.static.HashedStatic"
        if COLLECTED_STATIC
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not COLLECTED_STATIC
WHITENOISE_AUTOREFRESH = DEBUG

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if (DSR_DEMO or DEBUG)
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", 25))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "dsr@localhost")
# The service's own address, for the links in its emails (invitations, set-up links).
SITE_URL = os.environ.get("SITE_URL") or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
# A mail server that accepts and stays silent must not hold anything up for long: mail is
# sent from the outbox after commit, never inside a transaction (ADR 0014).
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", 10))
# And the whole of one message's sending, however slowly the server drips its replies:
# under gunicorn's worker timeout, for a page that sends what it has just queued.
EMAIL_SEND_DEADLINE_S = int(os.environ.get("EMAIL_SEND_DEADLINE_S", 20))
# A message the mail server cannot have had is retried, each wait twice the last (1 minute
# up to an hour), until this many hours after it was queued: a relay down for an afternoon
# loses nothing; what is given up is listed by `outbox_report` (ADR 0038).
OUTBOX_GIVE_UP_HOURS = float(os.environ.get("OUTBOX_GIVE_UP_HOURS", 24))

# NHS.UK's typeface (Frutiger) comes from NHS.UK's font host: a third-party request, off
# by default (pages fall back to Arial). On, the CSP allows that host for fonts only.
DSR_NHS_FONTS = env_bool("DSR_NHS_FONTS")

# Transport security. Production runs behind TLS; demo and tests on plain HTTP.
SECURE = not (DSR_DEMO or DEBUG or env_bool("DSR_TESTING")) or env_bool("DSR_SECURE")
SECURE_SSL_REDIRECT = SECURE
# A load balancer checks health over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_HSTS_SECONDS = 63072000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
# Safe to read: the header survives only from a trusted proxy (core/proxy.py).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXIES else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = True

# Logs: JSON lines with the request id and no care data (core/logs.py), to standard error,
# for the host's collector; `LOG_FORMAT=text` for people reading a terminal.
LOG_FORMAT = os.environ.get("LOG_FORMAT") or ("text" if (DSR_DEMO or DEBUG) else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "dsr.core.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    "loggers": {
        # One line a request (method, path without its query, status, time): ACCESS_LOG=0
        # turns it off where the proxy logs requests already.
        "dsr.access": {
            "level": "INFO" if env_bool("ACCESS_LOG", not env_bool("DSR_TESTING")) else "WARNING"
        },
    },
}
CSRF_FAILURE_VIEW = "dsr.core.views.csrf_failure"
