from django.apps import AppConfig


class KeyworkConfig(AppConfig):
    name = "dsr.keywork"
    label = "keywork"

    def ready(self) -> None:
        from dsr.keywork.impacts import register_impacts

        register_impacts()
        from dsr.keywork.panels import register_panels
        from dsr.keywork.services import guard_network_ending
        from dsr.people.services import register_ending_guard

        register_panels()
        register_ending_guard(guard_network_ending)
