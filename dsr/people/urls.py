from django.urls import path

from dsr.people import views

app_name = "people"
urlpatterns = [
    path("<id:person_id>/edit/", views.person_edit, name="edit"),
    path("<id:person_id>/close/", views.person_close, name="close"),
    path("<id:person_id>/access/", views.person_access, name="access"),
]
