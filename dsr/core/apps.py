from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "dsr.core"
    label = "core"
