from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    """The monthly multi-agency tracker meeting: its agenda, decisions, pack and minutes."""

    name = "dsr.meetings"
    label = "meetings"
