from django.urls import path

from dsr.actions import views

app_name = "actions"
urlpatterns = [
    path("people/<int:person_id>/actions/new/", views.action_new, name="new"),
    path("actions/<int:action_id>/", views.action_update, name="update"),
]
