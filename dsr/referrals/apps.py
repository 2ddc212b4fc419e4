from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "dsr.referrals"
    label = "referrals"

    def ready(self) -> None:
        from dsr.core.access import register_record
        from dsr.referrals.impacts import register_impacts
        from dsr.referrals.models import Referral
        from dsr.referrals.panels import register_panels
        from dsr.referrals.work import register_providers

        register_impacts()
        register_panels()
        register_providers()
        register_record("referral_id", Referral, person="person_id")
