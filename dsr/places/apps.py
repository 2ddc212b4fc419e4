from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "dsr.places"
    label = "places"

    def ready(self) -> None:
        from dsr.places import impact  # noqa: F401 - registers its own estimators
