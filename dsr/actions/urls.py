from django.urls import path

from dsr.actions import views

app_name = "actions"
urlpatterns = [
    path("people/<id:person_id>/actions/new/", views.action_new, name="new"),
    path("actions/<id:action_id>/", views.action_update, name="update"),
]
