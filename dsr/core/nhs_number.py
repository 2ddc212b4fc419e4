"""NHS number: 10 digits, the last a modulus-11 check digit (NHS Data Dictionary)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from dsr.core.text import ascii_digits

_SEPARATORS = re.compile(r"[\s\-]+")
WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def normalise(value: str) -> str:
    """Strip the spaces and dashes people type; keep everything else for validation."""
    return _SEPARATORS.sub("", value or "")


def check_digit(stem: str) -> int | None:
    """The check digit for a 9-digit stem, or None where the stem can have none (11 - r == 10)."""
    total = sum(int(d) * w for d, w in zip(stem, WEIGHTS, strict=True))
    digit = 11 - (total % 11)
    if digit == 11:
        return 0
    if digit == 10:
        return None
    return digit


def is_valid(value: str) -> bool:
    number = normalise(value)
    if len(number) != 10 or not ascii_digits(number):
        return False
    return check_digit(number[:9]) == int(number[9])


def validate(value: str) -> str:
    """Return the normalised number, or raise ValidationError with a message a person can act on."""
    number = normalise(value)
    if not ascii_digits(number):
        raise ValidationError("NHS number must contain only numbers", code="nhs_number_chars")
    if len(number) != 10:
        raise ValidationError("NHS number must be 10 digits", code="nhs_number_length")
    if not is_valid(number):
        raise ValidationError(
            "This is not a valid NHS number. Check it and try again", code="nhs_number_check"
        )
    return number


def display(value: str) -> str:
    """`9991234567` → `999 123 4567`."""
    number = normalise(value)
    if len(number) != 10:
        return value
    return f"{number[:3]} {number[3:6]} {number[6:]}"


def looks_like(query: str) -> bool:
    """Whether a search term is meant as an NHS number (digits with optional separators)."""
    number = normalise(query)
    return len(number) == 10 and ascii_digits(number)
