from django.apps import AppConfig


class KeyworkConfig(AppConfig):
    name = "dsr.keywork"
    label = "keywork"

    def ready(self) -> None:
        from dsr.core.access import register_record
        from dsr.keywork.impacts import register_impacts
        from dsr.keywork.models import Allocation
        from dsr.keywork.panels import register_panels
        from dsr.keywork.services import guard_network_ending
        from dsr.people.services import register_ending_guard

        register_impacts()
        register_panels()
        register_ending_guard(guard_network_ending)
        register_record("allocation_id", Allocation, person="person_id")
