from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    """The monthly multi-agency tracker meeting: its agenda, decisions, pack and minutes."""

    name = "dsr.meetings"
    label = "meetings"

    def ready(self) -> None:
        from dsr.meetings.impacts import register_impacts
        from dsr.meetings.panels import register_panels

        register_panels()
        register_impacts()
