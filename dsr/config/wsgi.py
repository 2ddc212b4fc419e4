"""The served application (gunicorn in production, `make bench`).

It refuses to start in demo mode: demo mode turns the second factor off, and is for
`make demo` (Django's development server) only. Nor with DEBUG on: that serves with a
public secret key and audit key when none are set, Django's debug pages, and cookies
without Secure (an operator's review found it served so, healthy).
"""

import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsr.config.settings")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402 - after the application loads the settings

if settings.DSR_DEMO:
    raise ImproperlyConfigured("DSR_DEMO is on: demo mode is never served (use `make demo`)")
if settings.DEBUG:
    raise ImproperlyConfigured("DEBUG is on: debug mode is never served (unset DEBUG)")
