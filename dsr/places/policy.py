"""The place's policy numbers as the settings page and its service see them (ADR 0015).

Generic over `PlaceSettings`' concrete fields: a field another step adds (with its help text
and validators) is listed, edited and range-checked without a change here. A field's label
is its help text, its range its Min/MaxValueValidators. A field that needs another form
control (the ratings eligible for a keyworker: four checkboxes, kept as letters) registers
a `Control` in `CONTROLS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from dsr.places.models import RATING_LETTERS, PlaceSettings

# Columns that are the row's bookkeeping, not policy.
BOOKKEEPING = {"id", "place", "version", "created_at", "updated_at"}
RATING_NAMES = {"R": "Red", "A": "Amber", "G": "Green", "B": "Blue"}


def policy_fields() -> list[models.Field]:  # type: ignore[type-arg]
    """Every policy number, in the model's order."""
    return [
        cast(models.Field, f)  # type: ignore[type-arg]
        for f in PlaceSettings._meta.concrete_fields
        if f.name not in BOOKKEEPING
    ]


def policy_field(name: str) -> models.Field:  # type: ignore[type-arg]
    field = next((f for f in policy_fields() if f.name == name), None)
    if field is None:
        raise ValueError(f"Not a place setting: {name}")
    return field


def label_of(field: models.Field) -> str:  # type: ignore[type-arg]
    """What the setting is, in words: its help text, else its name."""
    return str(field.help_text or field.verbose_name).strip().rstrip(".")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def value_range(field: models.Field) -> tuple[int | None, int | None]:  # type: ignore[type-arg]
    least = most = None
    for validator in field.validators:
        if isinstance(validator, MinValueValidator):
            least = int(validator.limit_value)  # type: ignore[call-overload]
        elif isinstance(validator, MaxValueValidator):
            most = int(validator.limit_value)  # type: ignore[call-overload]
    return least, most


def range_message(field: models.Field) -> str:  # type: ignore[type-arg]
    least, most = value_range(field)
    label = label_of(field)
    if least is not None and most is not None:
        return f"{label} must be between {least} and {most}"
    if least is not None:
        return f"{label} must be {least} or more"
    return f"{label} must be {most} or fewer"


@dataclass(frozen=True)
class Control:
    """A setting whose form control is not the one its column type gives."""

    field: Callable[[models.Field], forms.Field]  # type: ignore[type-arg]
    to_form: Callable[[Any], Any]  # the stored value as the control shows it
    from_form: Callable[[Any], Any]  # the control's cleaned value as stored
    describe: Callable[[Any], str]  # the stored value in words


def _ratings_field(field: models.Field) -> forms.Field:  # type: ignore[type-arg]
    return forms.MultipleChoiceField(
        label=label_of(field),
        choices=[(letter, RATING_NAMES[letter]) for letter in RATING_LETTERS],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one of Red, Amber, Green and Blue"},
    )


def describe_ratings(value: Any) -> str:
    return ", ".join(RATING_NAMES[letter] for letter in str(value) if letter in RATING_NAMES)


CONTROLS: dict[str, Control] = {
    "keyworker_ratings": Control(
        field=_ratings_field,
        to_form=lambda value: list(str(value)),
        from_form=lambda chosen: "".join(x for x in RATING_LETTERS if x in chosen),
        describe=describe_ratings,
    ),
}


def register_control(name: str, control: Control) -> None:
    CONTROLS[name] = control


def describe(field: models.Field, value: Any) -> str:  # type: ignore[type-arg]
    """A stored value in words, as the settings pages show it."""
    if field.name in CONTROLS:
        return CONTROLS[field.name].describe(value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def form_field(field: models.Field) -> forms.Field:  # type: ignore[type-arg]
    """The form control for a setting, worded as its service words its errors."""
    if field.name in CONTROLS:
        return CONTROLS[field.name].field(field)
    label = label_of(field)
    if isinstance(field, models.BooleanField):
        return forms.TypedChoiceField(
            label=label,
            choices=[("True", "Yes"), ("False", "No")],
            coerce=lambda value: value == "True",
            widget=forms.RadioSelect,
            error_messages={"required": "Select yes or no", "invalid_choice": "Select yes or no"},
        )
    if isinstance(field, models.IntegerField):
        least, most = value_range(field)
        wrong = range_message(field)
        hint = f"A whole number from {least} to {most}" if least is not None else ""
        return forms.IntegerField(
            label=label,
            help_text=hint,
            min_value=least,
            max_value=most,
            widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "nhsuk-input--width-4"}),
            error_messages={
                "required": f"Enter {_lower_first(label)}",
                "invalid": f"{label} must be a whole number",
                "min_value": wrong,
                "max_value": wrong,
            },
        )
    return forms.CharField(
        label=label,
        max_length=getattr(field, "max_length", None),
        validators=list(field.validators),
        error_messages={"required": f"Enter {_lower_first(label)}"},
    )


def form_value(field: models.Field, value: Any) -> Any:  # type: ignore[type-arg]
    """A stored value as its form control shows it."""
    if field.name in CONTROLS:
        return CONTROLS[field.name].to_form(value)
    if isinstance(value, bool):
        return str(value)
    return value


def from_form(field: models.Field, value: Any) -> Any:  # type: ignore[type-arg]
    if field.name in CONTROLS:
        return CONTROLS[field.name].from_form(value)
    return value


def clean_value(field: models.Field, value: Any) -> Any:  # type: ignore[type-arg]
    """One setting's value checked as the service holds it: its type, then its validators."""
    label = label_of(field)
    if isinstance(field, models.BooleanField):
        if not isinstance(value, bool):
            raise ValidationError("Select yes or no")
        return value
    if isinstance(field, models.IntegerField):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"{label} must be a whole number")
        least, most = value_range(field)
        if (least is not None and value < least) or (most is not None and value > most):
            raise ValidationError(range_message(field))
        return value
    if isinstance(field, models.CharField):
        if not isinstance(value, str) or "\x00" in value:
            raise ValidationError(f"{label} must be text")
        value = value.strip()
        if field.max_length is not None and len(value) > field.max_length:
            raise ValidationError(f"{label} must be {field.max_length} characters or fewer")
    for validator in field.validators:
        validator(value)
    return value


def clean_values(
    current: PlaceSettings, values: Mapping[str, Any]
) -> tuple[dict[str, Any], PlaceSettings]:
    """`values` checked one by one and together (the model's `clean`); returns them cleaned
    with a candidate row holding them. A ValidationError names every bad setting."""
    names = {f.name for f in policy_fields()}
    unknown = set(values) - names
    if unknown:
        raise ValueError(f"Not place settings: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name, value in values.items():
        try:
            cleaned[name] = clean_value(policy_field(name), value)
        except ValidationError as error:
            errors[name] = error.messages
    if errors:
        raise ValidationError(errors)
    candidate = PlaceSettings(**{f.name: getattr(current, f.name) for f in policy_fields()})
    for name, value in cleaned.items():
        setattr(candidate, name, value)
    candidate.clean()
    return cleaned, candidate


def changes_between(current: PlaceSettings, values: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{name: [old, new]} for each value that differs from the stored one, in model order."""
    return {
        f.name: [getattr(current, f.name), values[f.name]]
        for f in policy_fields()
        if f.name in values and getattr(current, f.name) != values[f.name]
    }


def rows(policy: PlaceSettings, names: Iterable[str] | None = None) -> list[tuple[str, str, str]]:
    """(name, label, value in words) for each setting, for the settings pages."""
    wanted = set(names) if names is not None else None
    return [
        (f.name, label_of(f), describe(f, getattr(policy, f.name)))
        for f in policy_fields()
        if wanted is None or f.name in wanted
    ]
