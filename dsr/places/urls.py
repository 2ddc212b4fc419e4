from django.urls import path

from dsr.places import views

app_name = "places"
urlpatterns = [
    path("", views.place_home, name="home"),
    path("settings/", views.place_settings, name="settings"),
]
