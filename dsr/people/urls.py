from django.urls import path

from dsr.people import circumstance_views, network_views, views
from dsr.people.choices import MemberKind

app_name = "people"
urlpatterns = [
    path("<id:person_id>/edit/", views.person_edit, name="edit"),
    path("<id:person_id>/close/", views.person_close, name="close"),
    path("<id:person_id>/access/", views.person_access, name="access"),
    path("<id:person_id>/network/", network_views.network_page, name="network"),
    path(
        "<id:person_id>/network/new-professional/",
        network_views.member_new,
        {"kind": MemberKind.PROFESSIONAL},
        name="network_professional_new",
    ),
    path(
        "<id:person_id>/network/new-family/",
        network_views.member_new,
        {"kind": MemberKind.FAMILY},
        name="network_family_new",
    ),
    path(
        "<id:person_id>/circumstances/",
        circumstance_views.circumstance_history,
        name="circumstances",
    ),
    path(
        "<id:person_id>/circumstances/new/",
        circumstance_views.circumstance_new,
        name="circumstance_new",
    ),
    path("network/<id:member_id>/edit/", network_views.member_edit, name="network_edit"),
    path("network/<id:member_id>/end/", network_views.member_end, name="network_end"),
]
