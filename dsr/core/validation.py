"""What a service checks of the values it is given, with the words its form would use.

A form is not a service's only caller (tests, commands, the demo loader, the API to come),
so each service validates everything itself. `clean_fields` checks values against the
model's own field definitions — type, required, choices, length, no NUL or other control
characters, nothing that reverses the text's direction, one line for a CharField — and
words each problem exactly as `core.forms.name_each_error` words it on the form.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar, cast

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import capfirst

from dsr.core import dates
from dsr.core.text import the

T = TypeVar("T")


def label_of(field: models.Field) -> str:  # type: ignore[type-arg]
    return str(capfirst(field.verbose_name))


def required_message(field: models.Field) -> str:  # type: ignore[type-arg]
    verb = "Select" if field.choices else "Enter"
    return f"{verb} the {label_of(field).lower()}"


def choice_message(field: models.Field) -> str:  # type: ignore[type-arg]
    return f"Select a valid choice for {label_of(field).lower()}"


# Found by a review, each saved as typed: a terminal's escape codes and bells, line breaks in
# a name, a right-to-left override that shows a name backwards (and can make one name look
# like another), a name of nothing but a zero-width space that passed as filled in.
CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
LINE_BREAK_OR_TAB = re.compile("[\t\n\r\u2028\u2029]")
DIRECTION_OVERRIDE = re.compile("[\u202a-\u202e\u2066-\u2069]")
# Whitespace, format characters and the fillers that draw nothing (Hangul, Braille blank,
# the combining grapheme joiner, the Mongolian vowel separator).
INVISIBLE_ONLY = re.compile(
    "[\\s\u00ad\u034f\u115f\u1160\u180e\u200b-\u200f\u2060-\u2064\u2800\u3164\uffa0\ufeff]*"
)
PARAGRAPHS = 1000  # text(): a field this long or longer may have line breaks


def _text(value: Any, *, label: str, max_length: int | None, required: bool, lines: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"{label} must be text")
    value = value.strip()
    if "\x00" in value:
        raise ValidationError(f"{label} must not contain null characters")
    if CONTROL.search(value):
        raise ValidationError(f"{label} must not contain control characters")
    if not lines and LINE_BREAK_OR_TAB.search(value):
        raise ValidationError(f"{label} must be on one line, without tabs")
    if DIRECTION_OVERRIDE.search(value):
        raise ValidationError(f"{label} must not contain characters that reverse the text")
    if INVISIBLE_ONLY.fullmatch(value):
        value = ""
    if required and not value:
        raise ValidationError(f"Enter {the(label)}")
    if max_length is not None and len(value) > max_length:
        raise ValidationError(f"{label} must be {max_length} characters or fewer")
    return value


def text(
    value: Any,
    *,
    field: str,
    label: str,
    max_length: int | None,
    required: bool,
) -> str:
    """A text value as a form's CharField leaves it: a string, stripped, within its length.
    A field of `PARAGRAPHS` characters or more (a note, a reason: every textarea's) may have
    line breaks and tabs; a shorter one (a name, a title, a venue) is one line. A problem is
    raised against `field`, worded with the form's `label`."""
    lines = max_length is None or max_length >= PARAGRAPHS
    try:
        return _text(value, label=label, max_length=max_length, required=required, lines=lines)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from None


def _clean(field: models.Field, value: Any) -> Any:  # type: ignore[type-arg]
    label = label_of(field)
    if isinstance(field, models.BooleanField):
        if not isinstance(value, bool):
            raise ValidationError(choice_message(field))
        return value
    if isinstance(field, models.DateField):
        if value is None and field.null:
            return None
        if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
            raise ValidationError(f"The {label.lower()} must be a real date")
        return value
    if isinstance(field, models.CharField | models.TextField):
        lines = isinstance(field, models.TextField)
        cleaned = _text(
            value, label=label, max_length=field.max_length, required=False, lines=lines
        )
        if not cleaned and not field.blank:
            raise ValidationError(required_message(field))
        if cleaned and field.choices and cleaned not in {str(c) for c, _ in field.choices}:
            raise ValidationError(choice_message(field))
        return cleaned
    raise TypeError(f"clean_fields does not know {type(field).__name__}")


def clean_fields(
    model: type[models.Model],
    data: Mapping[str, Any],
    *,
    allowed: Iterable[str],
    required: bool,
) -> dict[str, Any]:
    """`data` checked against `model`'s fields; a ValidationError names every bad field.

    `allowed`: the fields a caller may set (anything else is a programming error).
    `required`: every allowed field without a default must be present (a new record).
    """
    allowed = tuple(allowed)
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValueError(f"Not {model.__name__} fields: {sorted(unknown)}")
    errors: dict[str, ValidationError] = {}
    cleaned: dict[str, Any] = {}
    for name in allowed:
        field = cast(models.Field, model._meta.get_field(name))  # type: ignore[type-arg]
        if name not in data:
            if required and not field.has_default() and not field.blank:
                errors[name] = ValidationError(required_message(field))
            continue
        try:
            cleaned[name] = _clean(field, data[name])
        except ValidationError as error:
            errors[name] = error
    if errors:
        raise ValidationError(errors)  # type: ignore[arg-type]
    return cleaned


def one_of(value: Any, choices: Any, *, field: str, message: str) -> str:
    """A coded value that must be one of `choices` (a TextChoices class or pairs)."""
    values = {str(v) for v, _ in (choices.choices if hasattr(choices, "choices") else choices)}
    if not isinstance(value, str) or value not in values:
        raise ValidationError({field: message})
    return value


def a_date(value: Any, *, field: str, label: str) -> datetime.date:
    if not isinstance(value, datetime.date) or isinstance(value, datetime.datetime):
        raise ValidationError({field: f"The {label} must be a real date"})
    return value


def a_past_date(value: Any, *, field: str, label: str) -> datetime.date:
    """A date that has happened: today or before."""
    value = a_date(value, field=field, label=label)
    if value > dates.today():
        raise ValidationError({field: f"The {label} must be today or in the past"})
    return value


def a_past_date_or_today(value: Any, *, field: str, label: str) -> datetime.date:
    """An optional date that has happened: today when none is given. Only None is none: an
    empty text or a 0 from a caller is not a date, and is not taken for today."""
    return a_past_date(dates.today() if value is None else value, field=field, label=label)


def each_a(values: Any, kind: type[T], *, field: str, message: str) -> list[T]:
    """A caller's chosen things, each a `kind`: any collection of them (a form's queryset, a
    list; none is an empty one), not None, text, a single thing or a list of ids."""
    if not isinstance(values, Iterable) or isinstance(values, str | bytes | Mapping):
        raise ValidationError({field: message})
    chosen = list(values)
    if not all(isinstance(value, kind) for value in chosen):
        raise ValidationError({field: message})
    return chosen


# A UK postcode as Royal Mail writes it: the outward code, one space, the inward code
# (ZZ99 for no fixed abode fits it; GIR 0AA is the one exception).
POSTCODE = re.compile("[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}|GIR 0AA")
REAL_POSTCODE = "Enter a real postcode, like LS1 4AP"


def postcode(value: Any, *, field: str) -> str:
    """A postcode written as Royal Mail writes it (upper case, one space), or "" for none.
    Found by a review: the public form took "٣٣٣" and "<script>" as postcodes."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({field: REAL_POSTCODE})
    compact = "".join(value.split())
    if not compact.isascii():  # before upper(), which writes "ß" as "SS" (a review)
        raise ValidationError({field: REAL_POSTCODE})
    compact = compact.upper()
    written = f"{compact[:-3]} {compact[-3:]}"
    if compact and not POSTCODE.fullmatch(written):
        raise ValidationError({field: REAL_POSTCODE})
    return written if compact else ""


PHONE = re.compile(r"\+?[0-9 ()-]+")
PHONE_DIGITS = range(10, 16)  # a UK number with its 0 or +44; an international one to 15


def phone(value: str, *, field: str) -> str:
    """A phone number someone can dial (digits 0-9, spaces, brackets, dashes, a leading +),
    or "" for none: the public form took "call me maybe" from a parent it says it will
    call (a review)."""
    digits = sum(character.isdigit() for character in value)
    if value and (not PHONE.fullmatch(value) or digits not in PHONE_DIGITS):
        raise ValidationError(
            {field: "Enter a phone number, like 01632 960 001, 07700 900 982 or +44 808 157 0192"}
        )
    return value
