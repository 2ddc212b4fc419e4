from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "dsr.consent"
    label = "consent"

    def ready(self) -> None:
        from dsr.consent.impacts import register_impacts

        register_impacts()
        from dsr.consent.panels import register_panels

        register_panels()
