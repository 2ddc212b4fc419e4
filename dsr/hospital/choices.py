"""Coded values of an inpatient episode (issue 10, part 1; Assuring Transformation's items)."""

from django.db import models

from dsr.people.choices import Accommodation


class WardType(models.TextChoices):
    GENERAL_ADOLESCENT = "general_adolescent", "General adolescent unit"
    PICU = "picu", "Psychiatric intensive care unit"
    LD_UNIT = "ld_unit", "Learning disability unit"
    SECURE = "secure", "Secure unit (low, medium or high secure)"
    ADULT = "adult", "Adult mental-health ward"


# DOMAIN.md: adults in secure settings have inpatient C(E)TRs every 12 months, not 6.
SECURE_WARDS = frozenset({WardType.SECURE})


class ProviderSector(models.TextChoices):
    NHS = "nhs", "NHS"
    INDEPENDENT = "independent", "Independent sector"


class LegalStatus(models.TextChoices):
    INFORMAL = "informal", "Informal (not detained)"
    S2 = "s2", "Mental Health Act section 2"
    S3 = "s3", "Mental Health Act section 3"
    S4 = "s4", "Mental Health Act section 4"
    S5_2 = "s5_2", "Mental Health Act section 5(2)"
    S5_4 = "s5_4", "Mental Health Act section 5(4)"
    S35 = "s35", "Mental Health Act section 35"
    S36 = "s36", "Mental Health Act section 36"
    S37 = "s37", "Mental Health Act section 37"
    S37_41 = "s37_41", "Mental Health Act section 37/41"
    S38 = "s38", "Mental Health Act section 38"
    S45A = "s45a", "Mental Health Act section 45A"
    S47 = "s47", "Mental Health Act section 47"
    S47_49 = "s47_49", "Mental Health Act section 47/49"
    S48 = "s48", "Mental Health Act section 48"
    S48_49 = "s48_49", "Mental Health Act section 48/49"
    S135 = "s135", "Mental Health Act section 135"
    S136 = "s136", "Mental Health Act section 136"


# Where a person goes on discharge: the register's own accommodation types, less hospital
# (a move between hospitals is a change to the episode, not a discharge).
DISCHARGE_DESTINATIONS = [(a.value, a.label) for a in Accommodation if a != Accommodation.HOSPITAL]


class NextCetr(models.TextChoices):
    """Which C(E)TR an inpatient is due next (the values of reviews' kinds)."""

    POST_ADMISSION = "post_admission", "Post-admission C(E)TR"
    INPATIENT = "inpatient", "Inpatient C(E)TR"
