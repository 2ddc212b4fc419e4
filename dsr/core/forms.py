"""Django form fields rendered as NHS.UK components.

`{{ form.field }}` in a template gives the full, accessibly wired component
(label, hint, error message, input); `{{ error_summary(form) }}` gives the
NHS error summary whose links land on the right input. One renderer for
every form in the service.
"""

from __future__ import annotations

import datetime
import functools
import re
import secrets
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.forms.boundfield import BoundField
from django.template import engines
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from markupsafe import Markup, escape

from dsr.core import dates
from dsr.core.text import ascii_digits, the

MACROS = {
    "input": ("nhsuk/components/input/macro.jinja", "input"),
    "textarea": ("nhsuk/components/textarea/macro.jinja", "textarea"),
    "select": ("nhsuk/components/select/macro.jinja", "select"),
    "radios": ("nhsuk/components/radios/macro.jinja", "radios"),
    "checkboxes": ("nhsuk/components/checkboxes/macro.jinja", "checkboxes"),
    "date": ("nhsuk/components/date-input/macro.jinja", "dateInput"),
    "error_summary": ("nhsuk/components/error-summary/macro.jinja", "errorSummary"),
}


def call_macro(kind: str, params: dict[str, Any]) -> Markup:
    template_name, macro_name = MACROS[kind]
    env = engines["jinja2"].env  # type: ignore[attr-defined]
    module = env.get_template(template_name).module
    # The macros autoescape every value they are given.
    return Markup(getattr(module, macro_name)(params))  # noqa: S704


class DateWidget(forms.MultiWidget):
    """Day, month and year boxes: the NHS date input pattern."""

    template_name = ""  # rendered by NHSBoundField, never by Django's templates

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        widgets: dict[str, forms.Widget | type[forms.Widget]] = {
            "day": forms.TextInput,
            "month": forms.TextInput,
            "year": forms.TextInput,
        }
        super().__init__(widgets, attrs)

    def decompress(self, value: Any) -> list[Any]:
        if isinstance(value, datetime.date):
            return [value.day, value.month, value.year]
        return [None, None, None]


class DateField(forms.MultiValueField):
    """A date from three boxes, with the NHS wording for each way it can be wrong."""

    widget = DateWidget

    def __init__(
        self,
        *,
        past_only: bool = False,
        future_only: bool = False,
        required_message: str = "",
        called: str = "",
        **kwargs: Any,
    ) -> None:
        """`called`: what the messages call the date, where the label is not a noun ("Due
        by" is "the due date": a review read "The due by must be a real date")."""
        self.past_only = past_only
        self.future_only = future_only
        parts = (forms.CharField(required=False) for _ in range(3))
        super().__init__(tuple(parts), require_all_fields=False, **kwargs)
        self.called = called or (self.label or "date").lower()
        self.error_messages["required"] = required_message or f"Enter the {self.called}"

    def compress(self, data_list: list[str]) -> datetime.date | None:
        if not data_list or not any(data_list):
            return None
        day, month, year = (part.strip() if part else "" for part in data_list)
        label = self.called
        missing = [
            name for name, part in (("day", day), ("month", month), ("year", year)) if not part
        ]
        if missing:
            raise ValidationError(f"The {label} must include a {' and '.join(missing)}")
        if not all(ascii_digits(part) for part in (day, month, year)) or len(year) != 4:
            raise ValidationError(f"The {label} must be a real date")
        try:
            value = datetime.date(int(year), int(month), int(day))
        except (ValueError, OverflowError):
            raise ValidationError(f"The {label} must be a real date") from None
        if self.past_only and value > dates.today():
            raise ValidationError(f"The {label} must be today or in the past")
        if self.future_only and value < dates.today():
            raise ValidationError(f"The {label} must be today or in the future")
        return value


def _text(value: Any) -> str | None:
    return str(value) if value else None


class NHSBoundField(BoundField):
    def __html__(self) -> SafeString:
        return mark_safe(self.render_nhs())  # noqa: S308 - escaped by the NHS macros

    def __str__(self) -> SafeString:
        return self.__html__()

    @property
    def anchor(self) -> str:
        """Where the error summary link should land."""
        if isinstance(self.field.widget, DateWidget):
            return f"{self.auto_id}-day"
        if isinstance(self.field.widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
            return f"{self.auto_id}"
        return self.auto_id

    def _render_select(self) -> SafeString:
        """The NHS select component, written out directly.

        The same markup nhsuk-frontend-jinja's select macro gives for these parameters;
        selects fill every filter bar and the macro's per-option work dominated the
        register page's render time (`make bench`).
        """
        current = str(self.value())
        field_id = self.auto_id
        described = []
        hint = error = SafeString("")
        if self.help_text:
            hint = format_html(
                '<div class="nhsuk-hint" id="{}-hint">{}</div>', field_id, self.help_text
            )
            described.append(f"{field_id}-hint")
        if self.errors:
            error = format_html(
                '<span class="nhsuk-error-message" id="{}-error">'
                '<span class="nhsuk-u-visually-hidden">Error: </span>{}</span>',
                field_id,
                " ".join(str(e) for e in self.errors),
            )
            described.append(f"{field_id}-error")
        # As format_html_join would write them, without its per-option format and marking.
        options = mark_safe(  # noqa: S308 - every value and label escaped
            "".join(
                f'<option value="{conditional_escape(value)}"'
                f"{' selected' if str(value) == current else ''}>"
                f"{conditional_escape(text)}</option>"
                for value, text in self.field.choices  # type: ignore[attr-defined]
            )
        )
        return format_html(
            '<div class="nhsuk-form-group{}"><label class="nhsuk-label nhsuk-label--s" for="{}">'
            "{}</label>{}{}"
            '<select class="nhsuk-select{}" id="{}" name="{}"{}>{}</select></div>',
            " nhsuk-form-group--error" if self.errors else "",
            field_id,
            self.label,
            hint,
            error,
            " nhsuk-select--error" if self.errors else "",
            field_id,
            self.html_name,
            format_html(' aria-describedby="{}"', " ".join(described)) if described else "",
            options,
        )

    def _render_input(self, params: dict[str, Any]) -> Markup | None:
        """The NHS input component for the parameters `render_nhs` gives a text-like input,
        written out directly, as `_render_select` is: the macro took about 0.3 ms an input
        (every form page's, and the register's search), this takes 0.02 ms. The same
        elements and attributes in the same order (whitespace apart:
        tests/core/test_forms_input.py compares both for every text input of every form);
        None for anything else, which the macro renders."""
        attributes = params["attributes"]
        if not all(
            isinstance(v, str | int) and not isinstance(v, bool) for v in attributes.values()
        ):
            return None
        field_id, help_text, errors = params["id"] or params["name"], self.help_text, self.errors
        group, classes, described = "nhsuk-form-group", "nhsuk-input", []
        if errors:
            group += " nhsuk-form-group--error"
            classes += " nhsuk-input--error"
        if params.get("classes"):
            classes += " " + params["classes"]
        at = escape(field_id)
        parts = [
            f'<div class="{group}"><label class="nhsuk-label nhsuk-label--s" for="{at}">'
            f"{escape(params['label']['text'])}</label>"
        ]
        if help_text:
            parts.append(f'<div class="nhsuk-hint" id="{at}-hint">{escape(help_text)}</div>')
            described.append(f"{field_id}-hint")
        if errors:
            parts.append(
                f'<span class="nhsuk-error-message" id="{at}-error">'
                '<span class="nhsuk-u-visually-hidden">Error: </span>'
                f"{escape(' '.join(str(e) for e in errors))}</span>"
            )
            described.append(f"{field_id}-error")
        spellcheck = params.get("spellcheck")
        optional = [
            ("spellcheck", str(spellcheck).lower() if isinstance(spellcheck, bool) else None),
            ("value", params["value"]),
            ("disabled", True if params.get("disabled") else None),
            ("aria-describedby", " ".join(described) or None),
            ("autocomplete", params.get("autocomplete")),
            ("inputmode", params.get("inputmode")),
        ]
        element = [
            f'<input class="{escape(classes)}" id="{at}" name="{escape(params["name"])}"'
            f' type="{escape(params["type"] or "text")}"'
        ]
        for name, value in optional:
            if value is True:
                element.append(f" {name}")
            elif value is not None and value is not False:
                element.append(f' {name}="{escape(value)}"')
        element.extend(f' {escape(name)}="{escape(value)}"' for name, value in attributes.items())
        parts.append("".join(element) + "></div>")
        return Markup("".join(parts))  # noqa: S704 - every value escaped above

    def _common(self) -> dict[str, Any]:
        return {
            "hint": {"text": self.help_text} if self.help_text else None,
            "errorMessage": {"text": " ".join(str(e) for e in self.errors)}
            if self.errors
            else None,
        }

    def render_nhs(self, **overrides: Any) -> Markup:
        widget = self.field.widget
        label = str(self.label)
        if isinstance(widget, forms.HiddenInput):
            return Markup(self.as_widget())  # noqa: S704 - Django escapes the widget
        if isinstance(widget, DateWidget):
            values = self.value()
            if not isinstance(values, list | tuple):
                values = widget.decompress(values)
            parts = [
                ("day", "Day", 2, values[0]),
                ("month", "Month", 2, values[1]),
                ("year", "Year", 4, values[2]),
            ]
            params = {
                "id": self.auto_id,
                "fieldset": {"legend": {"text": label, "size": "s"}},
                "items": [
                    {
                        "id": f"{self.auto_id}-{part}",
                        "name": f"{self.html_name}_{part}",
                        "label": text,
                        "width": width,
                        "value": "" if value is None else str(value),
                        "classes": "nhsuk-input--error" if self.errors else "",
                    }
                    for part, text, width, value in parts
                ],
                **self._common(),
            }
            return call_macro("date", params | overrides)
        if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
            multiple = isinstance(widget, forms.CheckboxSelectMultiple)
            current = self.value()
            selected = {str(v) for v in (current or [])} if multiple else {str(current)}
            # Drop Django's blank choice before numbering: the first radio must carry the
            # field's own id, which the error summary links to.
            choices = [c for c in self.field.choices if str(c[0]) != ""]  # type: ignore[attr-defined]
            items = [
                {
                    "value": str(value),
                    "text": str(text),
                    "checked": str(value) in selected,
                    "id": self.auto_id if index == 0 else f"{self.auto_id}-{index + 1}",
                }
                for index, (value, text) in enumerate(choices)
            ]
            params = {
                "idPrefix": self.auto_id,
                "name": self.html_name,
                "fieldset": {"legend": {"text": label, "size": "s"}},
                "items": items,
                **self._common(),
            }
            return call_macro("checkboxes" if multiple else "radios", params | overrides)
        if isinstance(widget, forms.CheckboxInput):
            params = {
                "idPrefix": self.auto_id,
                "name": self.html_name,
                "items": [
                    {
                        "value": "on",
                        "text": label,
                        "checked": bool(self.value()),
                        "id": self.auto_id,
                    }
                ],
                **self._common(),
            }
            return call_macro("checkboxes", params | overrides)
        base = {
            "id": self.auto_id,
            "name": self.html_name,
            "label": {"text": label, "size": "s"},
            **self._common(),
        }
        attributes = {
            k: v
            for k, v in widget.attrs.items()
            if k not in {"class", "maxlength", "autocomplete", "spellcheck", "inputmode"}
        }
        if isinstance(widget, forms.Select) and not overrides:
            return Markup(self._render_select())  # noqa: S704 - built with format_html
        value = self.value()
        base["value"] = "" if value is None else str(value)
        if isinstance(widget, forms.Textarea):
            base["rows"] = widget.attrs.get("rows", 4)
            return call_macro("textarea", base | {"attributes": attributes} | overrides)
        base["type"] = getattr(widget, "input_type", "text")
        if self.field.disabled:
            base["disabled"] = True
        for key in ("autocomplete", "spellcheck", "inputmode"):
            if key in widget.attrs:
                base[key] = widget.attrs[key]
        if widget.attrs.get("class"):
            base["classes"] = widget.attrs["class"]
        params = base | {"attributes": attributes}
        if not overrides and (written := self._render_input(params)) is not None:
            return written
        return call_macro("input", params | overrides)


class VersionField(forms.IntegerField):
    """The version the user loaded, carried in a hidden field (optimistic locking, ADR 0005)."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=1, max_value=2**31 - 1, **kwargs)
        self.error_messages["invalid"] = self.error_messages["required"] = (
            "This form is out of date. Reload the page and try again"
        )
        self.error_messages["min_value"] = self.error_messages["max_value"] = self.error_messages[
            "invalid"
        ]


class OnceField(forms.CharField):
    """The page's one-time token (core/once.py), hidden: a new one each time a page with the
    form is drawn, sent back with it, so the form does what it asks once however often it
    is sent."""

    widget = forms.HiddenInput
    TOKEN = re.compile("[A-Za-z0-9_-]{16,64}")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, initial=lambda: secrets.token_urlsafe(24), **kwargs)

    def clean(self, value: Any) -> str:
        """The token as the page wrote it, or "" (none sent); anything else is a page that
        is not ours, or not any more."""
        if value in (None, ""):
            return ""
        if not isinstance(value, str) or not self.TOKEN.fullmatch(value):
            raise ValidationError("This form is out of date. Reload the page and try again")
        return value


CHOOSING = (forms.ChoiceField, forms.ModelChoiceField, forms.ModelMultipleChoiceField)


def _name(field: forms.Field) -> str:
    label = str(field.label or "This").rstrip("?").strip()
    return label.removesuffix("(optional)").strip()


def _ascii_number(field: forms.IntegerField, value: Any) -> int | None:
    """A whole number in the digits 0-9 only, as dates and NHS numbers are read: Django's
    took "٣" and "３" for 3 (a review), one spelling of a number among several."""
    if isinstance(value, str) and value.strip() and not ascii_digits(value.strip().lstrip("+-")):
        raise ValidationError(field.error_messages["invalid"], code="invalid")
    return forms.IntegerField.to_python(field, value)


def name_each_error(form: forms.BaseForm) -> None:
    """NHS style: errors name the field and say what to do. "Enter the given name", "Select
    the accommodation", "Given name must be 100 characters or fewer" — never Django's
    "This field is required" or "Ensure this value has at most 100 characters". A field may
    set its own message (labels that are questions should)."""
    defaults = forms.Field.default_error_messages
    for field in form.fields.values():
        messages = field.error_messages
        name = _name(field)
        if messages.get("required") == defaults["required"]:
            verb = "Select" if isinstance(field, CHOOSING) else "Enter"
            messages["required"] = f"{verb} {the(name)}"
        if messages.get("invalid") == forms.IntegerField.default_error_messages["invalid"]:
            messages["invalid"] = f"{name} must be a whole number, like 12"
        if isinstance(field, forms.IntegerField) and not hasattr(field, "ascii_only"):
            field.ascii_only = True  # type: ignore[attr-defined]
            field.to_python = functools.partial(_ascii_number, field)  # type: ignore[method-assign]
        if isinstance(field, forms.CharField):  # Django's says which field nowhere
            field.validators = [
                ProhibitNullCharactersValidator(f"{name} must not contain null characters")
                if isinstance(validator, ProhibitNullCharactersValidator)
                else validator
                for validator in field.validators
            ]
        if isinstance(field, CHOOSING) and "invalid_choice" in messages:
            messages["invalid_choice"] = f"Select a valid choice for {name.lower()}"
            messages["invalid_pk_value"] = f"Select a valid choice for {name.lower()}"
        if isinstance(field, forms.ModelMultipleChoiceField):
            messages["invalid_list"] = f"Select a valid choice for {name.lower()}"
        max_length = getattr(field, "max_length", None)
        if max_length is not None:
            messages["max_length"] = f"{name} must be {max_length} characters or fewer"
        min_length = getattr(field, "min_length", None)
        if min_length is not None:
            messages["min_length"] = f"{name} must be at least {min_length} characters"


class Form(forms.Form):
    """A form whose fields render as NHS components and word errors the NHS way."""

    bound_field_class = NHSBoundField

    def full_clean(self) -> None:
        name_each_error(self)  # here, not in __init__: subclasses add fields after it
        super().full_clean()


class ModelForm(forms.ModelForm):  # type: ignore[type-arg]
    """A model form whose fields render as NHS components and word errors the NHS way."""

    bound_field_class = NHSBoundField

    def full_clean(self) -> None:
        name_each_error(self)
        super().full_clean()


def error_summary(form: forms.BaseForm, problems: list[str] | None = None) -> Markup:
    """The NHS error summary: `problems` first, then the form's errors linked to their fields."""
    items: list[dict[str, str]] = [{"text": p} for p in problems or []]
    if not items and (not form.is_bound or not form.errors):
        return Markup("")
    if not form.is_bound:
        return call_macro("error_summary", {"titleText": "There is a problem", "errorList": items})
    items.extend({"text": str(e)} for e in form.non_field_errors())
    for name in form.errors:
        if name == NON_FIELD_ERRORS:
            continue
        bound = form[name]
        anchor = getattr(bound, "anchor", bound.auto_id)
        items.extend({"text": str(e), "href": f"#{anchor}"} for e in form.errors[name])
    return call_macro("error_summary", {"titleText": "There is a problem", "errorList": items})


_BIGINT = 2**63 - 1


def _plausible_pk(value: Any) -> bool:
    """A primary key the database can be asked about: an ASCII integer in the 64-bit range.

    Anything else (a 20-digit number, '١٢', '1e5') would otherwise reach the database as
    a query it cannot run: a 500 instead of "Select a valid choice".
    """
    text = str(value).strip()
    return ascii_digits(text) and len(text) <= 19 and 0 < int(text) <= _BIGINT


class RecordChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """One record from a queryset; an impossible id is an invalid choice, not a 500."""

    def to_python(self, value: Any) -> Any:
        if value in self.empty_values:
            return None
        if not _plausible_pk(value):
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class RecordsChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    """Records from a queryset (checkboxes); an impossible id is an invalid choice."""

    def _check_values(self, value: Any) -> Any:
        for pk in value:
            if not _plausible_pk(pk):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)  # type: ignore[misc]


def posted(request: Any) -> Any:
    """A form's data: bound on every POST, even an empty one (whose errors then show), and
    unbound on a GET. `request.POST or None` leaves an empty POST unbound and silent."""
    return request.POST if request.method == "POST" else None


def add_service_error(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's refusal on the form: beside the field it names when the form has
    that field, otherwise at the top of the error summary."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def _shown(field: forms.Field, value: Any) -> str:
    """A saved value as its field would offer it: a choice's words, a date written out."""
    if value in (None, ""):
        return "nothing"
    if isinstance(value, datetime.date):
        return f"{value:%-d %B %Y}"
    for option, words in getattr(field, "choices", ()):
        if str(option) == str(value):
            return str(words)
    return str(value)


# What a form that moves a record on (ends, closes, decides, removes) says it saved: nothing
# of the record's own values. Its service checks again the state it needs.
MOVES_ON: dict[str, Any] = {}


def changed_meanwhile(form: forms.BaseForm, record: Any, saved: dict[str, Any]) -> None:
    """A save refused because someone else saved `record` first (StaleVersion): the form
    again with what they typed kept, and the form's version moved on to the record's own, so
    that their next save, made knowing, can go through. An edit form passes the record read
    afresh and `saved`, its values as the form shows them: each that differs from what was
    typed is named, so their next save overwrites nothing unseen. A form that moves the record on
    passes MOVES_ON: its fields are not the record's, and its service checks again the state
    it needs (already ended, already decided). Where nothing differs, the page is most often
    one sent twice, and says it is saved already. Before, the page said "check what it now says"
    and showed nothing, and every later save was refused until a reload lost the typing (a
    review).
    """
    if saved is MOVES_ON:
        version = type(record)._default_manager.values_list("version", flat=True).get(pk=record.pk)
    else:  # the record `saved` was read from: the version moved to is the one named (a review)
        version = record.version
    typed = getattr(form, "cleaned_data", {})
    differ = [
        f"{_name(field)}: {_shown(field, saved[name])}"
        for name, field in form.fields.items()
        if name in saved
        and name != "version"
        and _comparable(saved[name]) != _comparable(typed.get(name))
    ]
    # A field with nothing saved to compare it with (an action's new note): what was typed
    # there may not be saved, so the page cannot say all of it is (a review).
    unseen = [
        name
        for name in form.fields
        if name != "version" and name not in saved and typed.get(name) not in (None, "")
    ]
    data = form.data.copy()  # type: ignore[attr-defined]  # a QueryDict: lists kept
    data["version"] = str(version)
    form.data = data
    if saved is MOVES_ON:
        said = "Someone else saved this while you were working. Send this again to go ahead"
        said += " with it, or go back to see what changed first"
    elif differ:
        said = "Someone else saved this while you were working. It now says: "
        said += f"{'; '.join(differ)}. Save again to keep what you entered here"
    elif unseen:
        said = "Someone else saved this while you were working. Save again to keep what you"
        said += " entered here"
    else:
        # Most often the same page sent twice (a double click, a resend): the first send
        # saved it. Nobody else's change is in the way, so none is claimed.
        said = "This is saved already as you entered it. There is nothing more to save"
    form.add_error(None, said)


def _comparable(value: Any) -> str:
    """A typed value and a saved one, alike: a record chosen (typed) and its id (saved),
    nothing and an empty answer."""
    if value is None:
        return ""
    return str(getattr(value, "pk", value))
