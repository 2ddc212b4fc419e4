from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    """The monthly multi-agency tracker meeting: its agenda, decisions, pack and minutes."""

    name = "dsr.meetings"
    label = "meetings"

    def ready(self) -> None:
        from dsr.core.access import register_record
        from dsr.meetings.impacts import register_impacts
        from dsr.meetings.models import AgendaItem, Meeting
        from dsr.meetings.panels import register_panels

        register_panels()
        register_impacts()
        register_record("meeting_id", Meeting, person=None)
        register_record("item_id", AgendaItem, person="person_id", place="meeting__place_id")
