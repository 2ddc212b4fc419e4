from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "dsr.people"
    label = "people"

    def ready(self) -> None:
        from dsr.people.panels import register_panels

        register_panels()
