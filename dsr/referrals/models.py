"""Referrals: how a child comes onto the register (DOMAIN.md "The life of a record").

A referral is care data before any person exists: it names a child and why they need help.
It is kept whatever is decided (accepted, declined, more information asked for), each
decision dated and attributed, and never deleted. A transfer from another place arrives as
a referral too, carrying the record's history when consent allows (ADR 0021).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from dsr.core import dates
from dsr.core.models import (
    CareQuerySet,
    Immutable,
    Versioned,
    immutable_triggers,
    one_of,
    undeletable_triggers,
)


class Source(models.TextChoices):
    PROFESSIONAL = "professional", "A professional"
    SELF = "self", "A parent or carer (self-referral)"
    TRANSFER = "transfer", "A transfer from another place"


class Status(models.TextChoices):
    NEW = "new", "New"
    MORE_INFORMATION = "more_info", "Waiting for more information"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"


OPEN_STATUSES = (Status.NEW, Status.MORE_INFORMATION)


class ConsentObtained(models.TextChoices):
    YES = "yes", "Yes"
    NO = "no", "No"
    NOT_KNOWN = "not_known", "Not known"


class ReferralQuerySet(CareQuerySet):
    def waiting(self) -> ReferralQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


class Referral(Versioned):
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(max_length=16, unique=True)
    source = models.CharField(max_length=12, choices=Source.choices)
    received_on = models.DateField()

    # Who referred
    referrer_name = models.CharField("Referrer's name", max_length=150)
    referrer_role = models.CharField("Referrer's role or relationship", max_length=150, blank=True)
    referrer_organisation = models.CharField("Organisation", max_length=200, blank=True)
    referrer_phone = models.CharField("Phone", max_length=40, blank=True)
    referrer_email = models.EmailField("Email", max_length=254, blank=True)

    # The child or young person
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    nhs_number = models.CharField("NHS number", max_length=10, blank=True)
    postcode = models.CharField(max_length=8, blank=True)
    # The names as they are searched (core/text.py), kept by the services.
    search_name = models.CharField(max_length=400, blank=True, editable=False)
    reason = models.TextField("Reason for the referral", max_length=4000)
    current_risks = models.TextField(max_length=4000, blank=True)
    consent_obtained = models.CharField(
        "Consent obtained", max_length=10, choices=ConsentObtained.choices
    )
    consent_from = models.CharField("Consent given by", max_length=150, blank=True)

    # Triage
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    first_contact_on = models.DateField(null=True, blank=True)
    person = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals",
    )
    # A transfer: the record closed in the place that sent it, and what it carried.
    transferred_from = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transfers_out",
    )
    transfer_packet = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by_label = models.CharField(max_length=254, blank=True)

    objects = ReferralQuerySet.as_manager()  # type: ignore[misc]

    class Meta:
        ordering = ["received_on", "id"]
        indexes = [
            models.Index(fields=["place", "status", "received_on"], name="referral_queue_idx"),
            models.Index(fields=["person"], name="referral_person_idx"),
        ]
        constraints = [
            one_of("source", Source.choices, name="referral_source_valid"),
            one_of("status", Status.choices, name="referral_status_valid"),
            one_of("consent_obtained", ConsentObtained.choices, name="referral_consent_valid"),
            models.CheckConstraint(
                condition=Q(nhs_number="") | Q(nhs_number__regex=r"^[0-9]{10}$"),
                name="referral_nhs_number_ten_digits",
            ),
            # Accepted means a person on the register; a transfer names where it came from.
            models.CheckConstraint(
                condition=~Q(status="accepted") | Q(person__isnull=False),
                name="referral_accepted_has_person",
            ),
            models.CheckConstraint(
                condition=~Q(source="transfer") | Q(transferred_from__isnull=False),
                name="referral_transfer_has_origin",
            ),
        ]
        triggers = undeletable_triggers("referral")

    def __str__(self) -> str:
        return self.reference

    @property
    def child_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    @property
    def is_waiting(self) -> bool:
        return self.status in OPEN_STATUSES

    def first_contact_due(self, working_days: int) -> object:
        return dates.add_working_days(self.received_on, working_days)


class Decision(models.TextChoices):
    FIRST_CONTACT = "first_contact", "First contact made"
    MORE_INFORMATION = "more_info", "More information asked for"
    ACCEPTED = "accepted", "Accepted onto the register"
    DECLINED = "declined", "Declined"


class Communicated(models.TextChoices):
    PHONE = "phone", "Phone call"
    LETTER = "letter", "Letter"
    EMAIL = "email", "Email"
    IN_PERSON = "in_person", "In person"
    MEETING = "meeting", "At a meeting"


class ReferralDecision(Immutable):
    """A dated, attributed step in a referral's triage: never changed, never deleted."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="decisions")
    decision = models.CharField(max_length=16, choices=Decision.choices)
    decided_on = models.DateField()
    note = models.TextField(max_length=4000, blank=True)
    # For a decline or a request for information: how the referrer was told, and who.
    communicated = models.CharField(max_length=10, choices=Communicated.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by_label = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["decided_on", "id"]
        constraints = [
            one_of("decision", Decision.choices, name="referral_decision_valid"),
            one_of("communicated", Communicated.choices, blank=True, name="referral_told_valid"),
        ]
        triggers = immutable_triggers("referral_decision")

    def __str__(self) -> str:
        return f"{self.get_decision_display()} on {self.decided_on}"
