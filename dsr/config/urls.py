from django.urls import include, path, register_converter

from dsr.core import views as core_views
from dsr.core.routing import RecordId
from dsr.places import audit_views
from dsr.places import views as places_views

register_converter(RecordId, "id")

# Every page of a place carries the place in its URL (ADR 0013).
place_pages = [
    path("", include("dsr.places.urls")),
    path("", include("dsr.register.urls")),
    path("people/", include("dsr.people.urls")),
    path("people/", include("dsr.risk.urls")),
    path("people/", include("dsr.consent.urls")),
    path("", include("dsr.actions.urls")),
    path("", include("dsr.keywork.urls")),
    path("", include("dsr.work.urls")),
    path("", include("dsr.referrals.urls")),
    path("", include("dsr.hospital.urls")),
    path("", include("dsr.reviews.urls")),
    path("", include("dsr.meetings.urls")),
    path("audit/", audit_views.audit_search, name="audit_search"),
    path("settings/risk-factors/", include("dsr.risk.factor_urls")),
]

urlpatterns = [
    path("", places_views.home, name="home"),
    path("health/", core_views.health, name="health"),
    path("", include("dsr.accounts.urls")),
    path("places/switch/", places_views.switch_place, name="switch_place"),
    path("", include("dsr.referrals.public_urls")),
    path("places/<id:place_id>/", include(place_pages)),
]

handler400 = "dsr.core.views.bad_request"
handler403 = "dsr.core.views.permission_denied"
handler404 = "dsr.core.views.page_not_found"
handler500 = "dsr.core.views.server_error"
