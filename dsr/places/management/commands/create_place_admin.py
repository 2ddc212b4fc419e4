"""Bootstrapping: the first place admin of a place (ADR 0016). Everyone after them is invited
by a place admin in the app; this is for a new place, or one that has lost every admin."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from dsr.core import audit
from dsr.core.access import Role
from dsr.core.outbox import send_pending
from dsr.places import services, team
from dsr.places.models import Place


class Command(BaseCommand):
    help = (
        "Make someone the place admin of a place (created if new) and print their one-time "
        "invitation link, also emailed to them. Run by the operator; audited."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--place", required=True, help="The place's name")
        parser.add_argument("--icb", default="", help="The ICB's name, for a new place")
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True, help="The admin's full name")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        by = audit.Context(actor=None, place_id=None, actor_label="create_place_admin command")
        # Each step is its own transaction, so that a refused invitation is audited (and a
        # new place kept: run the command again with the corrected details).
        try:
            place = Place.objects.filter(name=options["place"].strip()).first()
            if place is None:
                place = services.create_place(name=options["place"], icb_name=options["icb"], by=by)
                self.stdout.write(f"Created the place {place.name}.")
            invited = team.invite_user(
                place=place,
                email=options["email"],
                full_name=options["name"],
                role=Role.PLACE_ADMIN,
                by=by,
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        sent = send_pending(only=[invited.email.pk])
        email = invited.membership.user.email
        if invited.token:
            self.stdout.write(
                f"{email} is place admin of {place.name}. Their invitation link (one use, "
                f"{team.accounts.INVITATION_DAYS} days): {team.setup_address(invited.token)}"
            )
        else:
            self.stdout.write(f"{email} already had an account: now place admin of {place.name}.")
        if not sent["sent"]:
            self.stdout.write("The email could not be sent yet: `send_outbox` will retry it.")
