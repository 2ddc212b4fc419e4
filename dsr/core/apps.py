from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "dsr.core"
    label = "core"

    def ready(self) -> None:
        from dsr.core import (
            checks,  # noqa: F401 - registers the deployment checks
            lookups,
            timestamps,
        )

        timestamps.connect()
        lookups.register()
