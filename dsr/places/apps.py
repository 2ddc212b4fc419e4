from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "dsr.places"
    label = "places"

    def ready(self) -> None:
        from dsr.core.access import register_record
        from dsr.places import impact  # noqa: F401 - registers its own estimators
        from dsr.places.models import Membership, Organisation

        register_record("membership_id", Membership, person=None)
        register_record("organisation_id", Organisation, person=None)
