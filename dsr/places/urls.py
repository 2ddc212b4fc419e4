from django.urls import path

from dsr.places import organisation_views, team_views, views

app_name = "places"
urlpatterns = [
    path("", views.place_home, name="home"),
    path("settings/", views.place_settings, name="settings"),
    path("settings/change/", views.place_settings_edit, name="settings_edit"),
    path("settings/organisations/", organisation_views.organisations, name="organisations"),
    path(
        "settings/organisations/<id:organisation_id>/",
        organisation_views.organisation_edit,
        name="organisation_edit",
    ),
    path("users/", team_views.users, name="users"),
    path("users/invite/", team_views.invite, name="invite"),
    path("users/<id:membership_id>/", team_views.member, name="member"),
    path("users/<id:membership_id>/remove/", team_views.member_remove, name="member_remove"),
    path(
        "users/<id:membership_id>/deactivate/",
        team_views.member_deactivate,
        name="member_deactivate",
    ),
    path(
        "users/<id:membership_id>/reactivate/",
        team_views.member_reactivate,
        name="member_reactivate",
    ),
    path("users/<id:membership_id>/reset/", team_views.member_reset, name="member_reset"),
    path("users/<id:membership_id>/unlock/", team_views.member_unlock, name="member_unlock"),
    path("users/<id:membership_id>/resend/", team_views.member_resend, name="member_resend"),
]
