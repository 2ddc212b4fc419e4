"""Bench-only settings: the app's settings plus Django's admin, as the peer to compare with.

The admin's changelist search over Person is the "peer" for our register's name search.
It needs django.contrib.admin, the messages app (already installed) and a DjangoTemplates
engine: the app renders with Jinja2 only, and DESIGN.md keeps Django templates for the
admin. The Jinja2 engine stays first, so the app's pages render exactly as in production.
"""

from dsr.config.settings import *  # noqa: F403
from dsr.config.settings import INSTALLED_APPS, TEMPLATES

INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.admin"]
ROOT_URLCONF = "bench.urls"
TEMPLATES = [
    *TEMPLATES,
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    },
]
