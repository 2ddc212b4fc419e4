from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "dsr.places"
    label = "places"
