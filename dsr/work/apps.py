from django.apps import AppConfig


class WorkConfig(AppConfig):
    name = "dsr.work"
    label = "work"
