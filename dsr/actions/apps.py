from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "dsr.actions"
    label = "actions"
