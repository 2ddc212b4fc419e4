"""The app's URLs plus a bench-only admin site with Person and a name search.

Our access decorators and the TOTP step do not guard the admin (it checks is_staff only).
"""

from __future__ import annotations

import time
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import path

from dsr.accounts.middleware import SIGNED_IN_AT
from dsr.config import urls as app_urls
from dsr.people.models import Person


class BenchAdminSite(admin.AdminSite):
    site_header = "DSR bench admin (peer comparison only)"

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        response = super().login(request, extra_context)
        # The app's AbsoluteSessionTimeoutMiddleware signs out any session without a
        # sign-in time (our sign-in sets it); the admin's login does not, so set it here.
        if request.method == "POST" and request.user.is_authenticated:
            request.session[SIGNED_IN_AT] = time.time()
        return response


class PersonAdmin(admin.ModelAdmin):
    search_fields = ["given_name", "family_name"]
    # Much the columns our register shows, so both pages render comparable rows.
    list_display = [
        "family_name",
        "given_name",
        "current_rating",
        "review_due",
        "date_of_birth",
        "nhs_number",
        "status",
    ]


site = BenchAdminSite(name="admin")
site.register(Person, PersonAdmin)

urlpatterns = [path("admin/", site.urls), *app_urls.urlpatterns]

handler400 = app_urls.handler400
handler403 = app_urls.handler403
handler404 = app_urls.handler404
handler500 = app_urls.handler500
