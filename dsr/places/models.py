"""Places, their policy settings, partner organisations and memberships."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from dsr.core.access import Role
from dsr.core.compiled import ShapedQuerySet
from dsr.core.models import Versioned, one_of


class Place(models.Model):
    """An ICB place (e.g. Knowsley inside Cheshire & Merseyside) running its own register."""

    name = models.CharField(max_length=120, unique=True)
    icb_name = models.CharField("ICB", max_length=160, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ShapedQuerySet.as_manager()  # SQL written once a shape (ADR 0029)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def _days(default: int, help_text: str, most: int = 3650) -> models.PositiveSmallIntegerField:
    """A policy number from 1 to `most`: its validators are the range the settings page and
    `update_place_settings` hold it to (ADR 0015)."""
    return models.PositiveSmallIntegerField(
        default=default,
        validators=[MinValueValidator(1), MaxValueValidator(most)],
        help_text=help_text,
    )


def _age(default: int, help_text: str, least: int, most: int) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(
        default=default,
        validators=[MinValueValidator(least), MaxValueValidator(most)],
        help_text=help_text,
    )


RATING_LETTERS = "RAGB"  # Red, Amber, Green, Blue (DOMAIN.md "Risk rating")


def validate_rating_letters(value: str) -> None:
    """Some of R, A, G and B, each once: the ratings a rule applies to."""
    letters = str(value)
    if not letters or set(letters) - set(RATING_LETTERS) or len(set(letters)) != len(letters):
        raise ValidationError("Choose at least one of Red, Amber, Green and Blue", code="ratings")


class PlaceSettings(Versioned):
    """Every policy number of DOMAIN.md, per place, with its default (ADR 0003).

    Code reads policy from here, never from a literal.
    """

    place = models.OneToOneField(Place, on_delete=models.PROTECT, related_name="settings")

    # Referrals
    parent_self_referral = models.BooleanField(
        default=False, help_text="Parents and carers may refer without a professional"
    )
    first_contact_working_days = _days(
        5, "Working days to make first contact after a referral", most=60
    )

    # Register and keyworker eligibility (ages in whole years)
    register_min_age = _age(0, "Youngest age, in years, for a person on the register", 0, 24)
    register_max_age = _age(25, "People leave the register on this birthday", 1, 25)
    keyworker_max_age = _age(25, "Keyworker eligibility ends on this birthday", 1, 25)
    keyworker_ratings = models.CharField(
        max_length=8,
        default="RAB",
        validators=[validate_rating_letters],
        help_text="Ratings eligible for a keyworker",
    )
    adult_age = _age(18, "Age from which a person counts as an adult", 16, 25)
    # Local practice, no national figure: "regular contact" (DOMAIN.md "Keyworker").
    keyworker_contact_days = _days(
        14, "Days since a keyworker's last contact with the family before it is overdue", 365
    )
    transition_window_months = _days(
        6, "Months ahead that turning 18 (adult services) or 25 (register ends) is flagged", 24
    )

    # The monthly tracker meeting (DOMAIN.md): how far past its date the agenda looks.
    meeting_lookahead_days = _days(
        28,
        "Days after a tracker meeting within which a review or C(E)TR falling due puts the "
        "person on its agenda",
        120,
    )

    # Review interval by rating (days)
    review_days_red = _days(7, "Days between reviews when Red", 365)
    review_days_amber = _days(28, "Days between reviews when Amber", 365)
    review_days_green = _days(90, "Days between reviews when Green", 365)
    review_days_blue = _days(14, "Days between reviews when Blue", 365)

    # Admissions and C(E)TRs
    post_discharge_red_days = _days(14, "Days a person stays Red after discharge", 90)
    post_admission_cetr_days_child = _days(14, "Days to a post-admission C(E)TR, under 18", 90)
    post_admission_cetr_days_adult = _days(28, "Days to a post-admission C(E)TR, adults", 90)
    inpatient_cetr_months_child = _days(3, "Months between inpatient C(E)TRs, under 18", 24)
    inpatient_cetr_months_adult = _days(
        6, "Months between inpatient C(E)TRs, adults (non-secure)", 24
    )
    inpatient_cetr_months_adult_secure = _days(
        12, "Months between inpatient C(E)TRs, adults (secure)", 24
    )
    cetr_report_days = _days(14, "Days for the C(E)TR report to reach attendees", 90)
    oversight_visit_weeks_child = _days(
        6, "Weeks between commissioner oversight visits, under 18", 52
    )
    oversight_visit_weeks_adult = _days(
        8, "Weeks between commissioner oversight visits, adults", 52
    )

    # Consent
    consent_reconfirm_months = _days(12, "Months before consent must be re-confirmed", 36)

    # What a rating sets in motion, and early warning (local practice: no national figure)
    community_cetr_days = _days(14, "Days to hold a community C(E)TR after a Red rating", 90)
    prompt_working_days = _days(
        5,
        "Working days to act on a rating's prompts (keyworker referral, multi-agency meeting)",
        60,
    )
    review_due_soon_days = _days(7, "Days ahead that a review counts as due soon", 90)
    signal_window_days = _days(30, "Days looked back over for a run of significant events", 365)
    signal_event_threshold = _days(2, "Significant events in that window that flag review now", 20)
    signal_crisis_when_green = models.BooleanField(
        default=True, help_text="Any crisis event for someone rated Green flags review now"
    )

    class Meta:
        verbose_name_plural = "place settings"

    def __str__(self) -> str:
        return f"Settings for {self.place}"

    def clean(self) -> None:
        """Rules between settings (each field's own range is its validators)."""
        if self.register_min_age >= self.register_max_age:
            raise ValidationError(
                {
                    "register_min_age": "The youngest age must be below the birthday people "
                    f"leave the register on ({self.register_max_age})"
                }
            )


class OrganisationKind(models.TextChoices):
    NHS_TRUST = "nhs_trust", "NHS trust"
    LA_CHILDRENS_SOCIAL_CARE = "la_csc", "Local authority children's social care"
    EDUCATION = "education", "Education setting"
    POLICE = "police", "Police"
    VOLUNTARY = "voluntary", "Voluntary sector"
    INDEPENDENT_PROVIDER = "independent", "Independent provider"


class Organisation(models.Model):
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="organisations")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=OrganisationKind.choices)
    # Retired organisations are kept (memberships and care records name them) but are no
    # longer offered for new ones (managed by the place admin).
    is_active = models.BooleanField(default=True)

    objects = ShapedQuerySet.as_manager()  # SQL written once a shape (ADR 0029)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["place", "name"], name="organisation_unique_per_place")
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in one place. Different places, different roles."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    is_active = models.BooleanField(default=True)

    objects = ShapedQuerySet.as_manager()  # SQL written once a shape (ADR 0029)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "place"], name="one_membership_per_place"),
            one_of("role", Role.choices, name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} – {self.place}"
