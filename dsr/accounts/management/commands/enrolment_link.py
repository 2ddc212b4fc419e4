from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from dsr.accounts import services
from dsr.accounts.models import User
from dsr.core import audit


class Command(BaseCommand):
    help = (
        "Issue a one-time link for a user to set up their authenticator app (their older "
        "unused links stop working). Until place admins invite users in the app (step 9)."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("email")
        parser.add_argument("--days", type=int, default=services.LINK_DAYS)

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        user = User.objects.filter(email=options["email"].strip().lower()).first()
        if user is None:
            raise CommandError("No user with that email address")
        by = audit.Context(actor=None, place_id=None, actor_label="enrolment_link command")
        token = services.issue_enrolment_link(user=user, by=by, days=options["days"])
        path = reverse("accounts:setup_link", args=[token])
        self.stdout.write(f"Send {user.email} this link (valid {options['days']} days): {path}")
