from django.apps import AppConfig


class RegisterConfig(AppConfig):
    """The register: the layer above the domain apps (ADR 0011)."""

    name = "dsr.register"
    label = "register"

    def ready(self) -> None:
        from dsr.register.panels import register_panels

        register_panels()
