import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from dsr.core import nhs_number

stems = st.text(alphabet="0123456789", min_size=9, max_size=9)


def _with_check_digit(stem: str) -> str | None:
    digit = nhs_number.check_digit(stem)
    return None if digit is None else stem + str(digit)


@given(stems)
def test_numbers_built_from_any_stem_with_its_check_digit_are_valid(stem):
    number = _with_check_digit(stem)
    if number is None:  # check digit would be 10: no valid number has this stem
        return
    assert nhs_number.is_valid(number)
    assert nhs_number.validate(f"{number[:3]} {number[3:6]}-{number[6:]}") == number


@given(stems, st.integers(min_value=0, max_value=9), st.integers(min_value=1, max_value=9))
def test_any_single_digit_change_makes_a_valid_number_invalid(stem, position, delta):
    number = _with_check_digit(stem)
    if number is None:
        return
    changed = list(number)
    changed[position] = str((int(changed[position]) + delta) % 10)
    assert not nhs_number.is_valid("".join(changed))


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("943476591", "10 digits"),
        ("94347659190", "10 digits"),
        ("94347659A9", "only numbers"),
        ("9434765918", "not a valid NHS number"),  # wrong check digit
        ("1000000010", "not a valid NHS number"),  # stem whose check digit would be 10
    ],
)
def test_invalid_numbers_are_refused_with_a_clear_message(typed, message):
    assert nhs_number.check_digit("100000001") is None
    with pytest.raises(ValidationError) as error:
        nhs_number.validate(typed)
    assert message in error.value.messages[0]


def test_spaces_and_dashes_are_accepted_and_display_is_grouped_3_3_4():
    assert nhs_number.validate(" 943-476 5919 ") == "9434765919"
    assert nhs_number.display("9434765919") == "943 476 5919"
