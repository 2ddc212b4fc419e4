from django.urls import path

from dsr.places import views

app_name = "places"
urlpatterns = [
    path("switch/", views.switch_place, name="switch"),
    path("settings/", views.place_settings, name="settings"),
]
