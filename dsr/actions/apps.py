from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "dsr.actions"
    label = "actions"

    def ready(self) -> None:
        from dsr.actions.panels import register_panels

        register_panels()
