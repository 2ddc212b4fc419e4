"""Settings, read from the environment with safe defaults (see README, "Settings")."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

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
    "dsr.core",
    "dsr.accounts",
    "dsr.places",
    "dsr.people",
    "dsr.actions",
    "dsr.risk",
    "dsr.hospital",
    "dsr.reviews",
    "dsr.register",
    "dsr.work",
    "dsr.demo",
]

MIDDLEWARE = [
    "dsr.core.proxy.ClientAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "dsr.core.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "dsr.accounts.middleware.SessionLifetimeMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "dsr.places.middleware.MembershipsMiddleware",
    "dsr.core.middleware.SecurityHeadersMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "dsr.config.urls"
WSGI_APPLICATION = "dsr.config.wsgi.application"

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
AUDIT_CHECKPOINT_FILE = os.environ.get("AUDIT_CHECKPOINT_FILE") or str(
    VAR_DIR / "audit-checkpoints.jsonl"
)
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
        "options": (
            f"-c lock_timeout={int(os.environ.get('DB_LOCK_TIMEOUT_MS', 5000))}"
            f" -c statement_timeout={int(os.environ.get('DB_STATEMENT_TIMEOUT_MS', 30000))}"
        )
    }
# A connection that died (a database restart) is replaced, not used for a 500.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
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
SESSION_ENGINE = "django.contrib.sessions.backends.db"
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
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]  # the real client (core/proxy.py)
# Attempts while locked out do not push the end of the lockout further away.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The proxies (addresses or networks) whose X-Forwarded-For and X-Forwarded-Proto are
# believed; from anyone else those headers are dropped (core/proxy.py). None by default.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")

OTP_TOTP_ISSUER = "Dynamic Support Register"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/assets/"  # nhsuk-frontend's CSS refers to /assets/images/...
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "dsr" / "static"]
WHITENOISE_USE_FINDERS = True
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
# A mail server that accepts and stays silent must not hold anything up for long: mail is
# sent from the outbox after commit, never inside a transaction (ADR 0014).
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", 10))

# NHS.UK's typeface (Frutiger) comes from NHS.UK's font host: a third-party request, off
# by default (pages fall back to Arial). On, the CSP allows that host for fonts only.
DSR_NHS_FONTS = env_bool("DSR_NHS_FONTS")

# Transport security. Production runs behind TLS; demo and tests on plain HTTP.
SECURE = not (DSR_DEMO or DEBUG or env_bool("DSR_TESTING")) or env_bool("DSR_SECURE")
SECURE_SSL_REDIRECT = SECURE
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
CSRF_FAILURE_VIEW = "dsr.core.views.csrf_failure"
