"""The served application (gunicorn in production, `make bench`).

It refuses to start in demo mode: demo mode turns the second factor off, and is for
`make demo` (Django's development server) only.
"""

import os

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsr.config.settings")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402 - after the application loads the settings

if settings.DSR_DEMO:
    raise ImproperlyConfigured("DSR_DEMO is on: demo mode is never served (use `make demo`)")
