from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    """C(E)TRs and LAEP meetings, their panels, consent and recommendations."""

    name = "dsr.reviews"
    label = "reviews"

    def ready(self) -> None:
        from dsr.core.access import register_record
        from dsr.hospital.services import register_community_cetr_lookup
        from dsr.people.services import register_dated_records
        from dsr.reviews.models import Cetr
        from dsr.reviews.panels import register_panels
        from dsr.reviews.services import community_cetr_held, earliest_record

        register_panels()
        register_record("cetr_id", Cetr, person="person_id")
        register_dated_records(earliest_record)
        # Did a community C(E)TR precede an admission? Hospital asks (ADR 0023).
        register_community_cetr_lookup(community_cetr_held)
