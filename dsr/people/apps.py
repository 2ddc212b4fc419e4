from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "dsr.people"
    label = "people"

    def ready(self) -> None:
        from dsr.core.access import register_person_locator
        from dsr.people.impacts import register_impacts
        from dsr.people.panels import register_panels
        from dsr.people.scoping import place_of_person

        register_panels()
        register_impacts()
        register_person_locator(place_of_person)
