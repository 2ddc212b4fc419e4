from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "dsr.risk"
    label = "risk"

    def ready(self) -> None:
        from dsr.risk import receivers  # noqa: F401 - connects the signal receivers
        from dsr.risk.panels import register_panels

        register_panels()
