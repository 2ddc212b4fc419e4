"""The application Django's development server runs (`make demo`, `make run`: settings'
WSGI_APPLICATION). The same as wsgi.py's, except that it may run in demo mode, which the
served application (gunicorn, `dsr.config.wsgi`) refuses."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dsr.config.settings")
application = get_wsgi_application()
