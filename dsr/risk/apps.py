from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "dsr.risk"
    label = "risk"

    def ready(self) -> None:
        from dsr.people.services import register_dated_records
        from dsr.risk import receivers  # noqa: F401 - connects the signal receivers
        from dsr.risk.impacts import register_impacts
        from dsr.risk.panels import register_panels
        from dsr.risk.services import earliest_record

        register_panels()
        register_impacts()
        register_dated_records(earliest_record)
