from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "dsr.actions"
    label = "actions"

    def ready(self) -> None:
        from dsr.actions.models import Action
        from dsr.actions.panels import register_panels
        from dsr.core.access import register_record

        register_panels()
        register_record("action_id", Action, person="person_id")
