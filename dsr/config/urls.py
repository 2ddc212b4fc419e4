from django.urls import include, path

from dsr.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("", include("dsr.accounts.urls")),
    path("people/", include("dsr.people.urls")),
    path("place/", include("dsr.places.urls")),
    path("audit/", core_views.audit_search, name="audit_search"),
    path("", include("dsr.risk.urls")),
    path("", include("dsr.actions.urls")),
    path("", include("dsr.work.urls")),
]

handler400 = "dsr.core.views.bad_request"
handler403 = "dsr.core.views.permission_denied"
handler404 = "dsr.core.views.page_not_found"
handler500 = "dsr.core.views.server_error"
