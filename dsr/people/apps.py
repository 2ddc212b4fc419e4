from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "dsr.people"
    label = "people"

    def ready(self) -> None:
        from dsr.core.access import register_record
        from dsr.people.impacts import register_impacts
        from dsr.people.models import NetworkMember, Person
        from dsr.people.panels import register_panels

        register_panels()
        register_impacts()
        register_record("person_id", Person, person="pk")
        register_record("member_id", NetworkMember, person="person_id")
