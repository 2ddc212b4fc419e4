from django.apps import AppConfig


class HospitalConfig(AppConfig):
    """Inpatient episodes and commissioner oversight visits (DOMAIN.md "C(E)TRs")."""

    name = "dsr.hospital"
    label = "hospital"

    def ready(self) -> None:
        from dsr.core.access import register_record
        from dsr.hospital.models import Admission
        from dsr.hospital.panels import register_panels
        from dsr.hospital.services import earliest_record, guard_rating
        from dsr.people.services import register_dated_records
        from dsr.risk.services import register_rating_guard

        register_panels()
        register_record("admission_id", Admission, person="person_id")
        register_dated_records(earliest_record)
        # Blue while in hospital, Red for N days after discharge (ADR 0022): risk asks.
        register_rating_guard(guard_rating)
