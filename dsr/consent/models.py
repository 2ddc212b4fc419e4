"""Consent to being on the register and to sharing (DOMAIN.md "Consent and information
sharing"): who consented, on what basis, for what, when, and how it was evidenced; and its
withdrawal, at any time. Both are dated records, never changed or deleted (ADR 0019)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from dsr.core.models import Immutable, immutable_triggers, one_of
from dsr.people.models import place_follows_person


class ConsentGiver(models.TextChoices):
    YOUNG_PERSON = "young_person", "The young person"
    PARENTAL_RESPONSIBILITY = "parental", "A person with parental responsibility"
    BEST_INTERESTS = "best_interests", "A best-interests decision (they cannot consent)"


class ConsentBasis(models.TextChoices):
    GILLICK = "gillick", "Gillick competent (under 16)"
    CAPACITY = "capacity", "Has capacity under the Mental Capacity Act (16 or over)"
    PARENTAL_RESPONSIBILITY = "parental", "Parental responsibility (under 18)"
    BEST_INTERESTS = "best_interests", "Lacks capacity: best-interests decision (16 or over)"


# Who may consent on which basis (DOMAIN.md): the young person with capacity (Gillick under
# 16, the Mental Capacity Act from 16); otherwise a person with parental responsibility (for
# a child, under 18); where someone of 16 or over lacks capacity, a best-interests decision.
BASES = {
    ConsentGiver.YOUNG_PERSON: {ConsentBasis.GILLICK, ConsentBasis.CAPACITY},
    ConsentGiver.PARENTAL_RESPONSIBILITY: {ConsentBasis.PARENTAL_RESPONSIBILITY},
    ConsentGiver.BEST_INTERESTS: {ConsentBasis.BEST_INTERESTS},
}
# Ages (at the date of consent) each basis applies to: [from, until).
BASIS_AGES = {
    ConsentBasis.GILLICK: (0, 16),
    ConsentBasis.CAPACITY: (16, 200),
    ConsentBasis.PARENTAL_RESPONSIBILITY: (0, 18),
    ConsentBasis.BEST_INTERESTS: (16, 200),
}


class Evidence(models.TextChoices):
    SIGNED_FORM = "signed_form", "Signed consent form"
    RECORDED_CONVERSATION = "conversation", "Conversation, recorded here"
    EMAIL_OR_LETTER = "email_letter", "Email or letter"
    MEETING = "meeting", "Recorded at a meeting"
    BEST_INTERESTS_RECORD = "bi_record", "Best-interests decision record"


class Consent(Immutable):
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="consents")
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    given_by = models.CharField(max_length=16, choices=ConsentGiver.choices)
    basis = models.CharField(max_length=16, choices=ConsentBasis.choices)
    # Who consented, or who made the best-interests decision (and their role).
    consenter = models.CharField(max_length=150)
    # For what: being on the register (always, or there is no consent), and sharing with
    # the named organisations.
    share_with = models.ManyToManyField(
        "places.Organisation", blank=True, related_name="+", through="ConsentOrganisation"
    )
    given_on = models.DateField()
    evidence = models.CharField(max_length=16, choices=Evidence.choices)
    evidence_note = models.TextField(max_length=2000, blank=True)
    reconfirm_by = models.DateField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by_label = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-given_on", "-id"]
        indexes = [models.Index(fields=["person", "-given_on"], name="consent_person_idx")]
        constraints = [
            one_of("given_by", ConsentGiver.choices, name="consent_given_by_valid"),
            one_of("basis", ConsentBasis.choices, name="consent_basis_valid"),
            one_of("evidence", Evidence.choices, name="consent_evidence_valid"),
            models.CheckConstraint(
                condition=Q(reconfirm_by__gt=F("given_on")), name="consent_reconfirm_after"
            ),
        ]
        triggers = [*immutable_triggers("consent"), place_follows_person("consent_in_place")]

    def __str__(self) -> str:
        return f"Consent given {self.given_on} ({self.get_given_by_display()})"


class ConsentOrganisation(Immutable):
    """An organisation a consent allows sharing with: part of the consent, never changed."""

    consent = models.ForeignKey(Consent, on_delete=models.PROTECT)
    organisation = models.ForeignKey("places.Organisation", on_delete=models.PROTECT)

    class Meta:
        unique_together = [("consent", "organisation")]
        triggers = immutable_triggers("consent_organisation")


class Withdrawal(Immutable):
    """Consent withdrawn: the record is restricted and flagged for closure (ADR 0019)."""

    person = models.ForeignKey(
        "people.Person", on_delete=models.PROTECT, related_name="consent_withdrawals"
    )
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="+")
    withdrawn_on = models.DateField()
    withdrawn_by = models.CharField("Who withdrew consent", max_length=150)
    note = models.TextField(max_length=2000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by_label = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-withdrawn_on", "-id"]
        indexes = [models.Index(fields=["person", "-withdrawn_on"], name="withdrawal_person_idx")]
        triggers = [
            *immutable_triggers("withdrawal"),
            place_follows_person("withdrawal_in_place"),
        ]

    def __str__(self) -> str:
        return f"Consent withdrawn {self.withdrawn_on}"
