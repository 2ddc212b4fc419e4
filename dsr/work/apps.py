from django.apps import AppConfig


class WorkConfig(AppConfig):
    name = "dsr.work"
    label = "work"

    def ready(self) -> None:
        from dsr.work.providers import register_defaults

        register_defaults()
