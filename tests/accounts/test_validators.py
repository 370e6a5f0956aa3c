"""Tests of the ID number, credit code and mobile number validators (no database needed).

Valid numbers are built with a reference check-character computation written here
independently of ``accounts.validators`` (weights derived from the ISO 7064 formulas instead of
copied tables), and with published examples.
"""

import datetime
import random

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation

from accounts.validators import (
    credit_code_check_char,
    id_number_check_char,
    mask_id_number,
    normalize_credit_code,
    normalize_id_number,
    normalize_mobile,
    validate_credit_code,
    validate_id_number,
    validate_mainland_mobile,
)

if not settings.configured:  # run without pytest-django: `-p no:django`
    settings.configure(USE_I18N=False)

CHINA = datetime.timezone(datetime.timedelta(hours=8))

# GB 11643-1999 example, and a commonly cited valid credit code (checked by the reference below).
STANDARD_ID = "11010519491231002X"
EXAMPLE_CREDIT_CODE = "91350100M000100Y43"


# --- independent reference computations ----------------------------------------------------


def ref_id_check(first17: str) -> str:
    """ISO 7064 MOD 11-2: weight of the digit at 0-based index i is 2**(17 - i) mod 11."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


REF_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def ref_credit_check(first17: str) -> str:
    """GB 32100 MOD 31: weight of the character at 0-based index i is 3**i mod 31."""
    total = sum(REF_CREDIT_ALPHABET.index(ch) * pow(3, i, 31) for i, ch in enumerate(first17))
    return REF_CREDIT_ALPHABET[(31 - total % 31) % 31]


def make_id(region: str = "11", area: str = "0105", birth: str = "19491231", seq: str = "002"):
    """A complete ID number whose check character is right (even if other parts are wrong)."""
    first17 = region + area + birth + seq
    return first17 + ref_id_check(first17)


def make_credit(first17: str) -> str:
    return first17 + ref_credit_check(first17)


def with_last(value: str, last: str) -> str:
    return value[:-1] + last


def error_of(validator, value) -> ValidationError:
    with pytest.raises(ValidationError) as excinfo:
        validator(value)
    return excinfo.value


def message_of(error: ValidationError) -> str:
    with translation.override("en"):
        return error.messages[0]


def test_reference_computations_agree_with_published_examples():
    assert ref_id_check(STANDARD_ID[:17]) == "X"
    assert ref_credit_check(EXAMPLE_CREDIT_CODE[:17]) == "3"


# --- resident ID numbers: valid ------------------------------------------------------------------


def test_standard_example_id_number_with_x_check_char_is_valid():
    validate_id_number(STANDARD_ID)
    assert id_number_check_char(STANDARD_ID[:17]) == "X"


@pytest.mark.parametrize(
    "seq", [s for s in (f"{n:03d}" for n in range(20)) if ref_id_check("11010519491231" + s) != "X"]
)
def test_id_number_with_digit_check_char_is_valid(seq):
    number = make_id(seq=seq)
    assert number[-1].isdigit()
    validate_id_number(number)


@pytest.mark.parametrize(
    "region", ["11", "15", "21", "37", "46", "50", "54", "65", "71", "81", "82", "83", "91"]
)
def test_id_number_from_every_kind_of_region_is_valid(region):
    validate_id_number(make_id(region=region))


@pytest.mark.parametrize("birth", ["19000101", "20000229", "19961231"])
def test_id_number_with_boundary_birth_dates_is_valid(birth):
    validate_id_number(make_id(birth=birth))


def _random_valid_ids(count: int, seed: int = 1164399) -> list[str]:
    rng = random.Random(seed)
    regions = ["11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
               "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62",
               "63", "64", "65", "71", "81", "82", "83", "91"]  # fmt: skip
    start = datetime.date(1900, 1, 1).toordinal()
    end = datetime.date(2020, 12, 31).toordinal()
    numbers = []
    for _ in range(count):
        birth = datetime.date.fromordinal(rng.randint(start, end)).strftime("%Y%m%d")
        first17 = rng.choice(regions) + f"{rng.randrange(10_000):04d}" + birth
        first17 += f"{rng.randrange(1000):03d}"
        numbers.append(first17 + id_number_check_char(first17))
    return numbers


RANDOM_IDS = _random_valid_ids(200)


def test_random_ids_include_both_x_and_digit_check_chars():
    assert any(n.endswith("X") for n in RANDOM_IDS)
    assert any(n[-1].isdigit() for n in RANDOM_IDS)


@pytest.mark.parametrize("number", RANDOM_IDS)
def test_generated_id_number_is_valid_and_check_char_matches_reference(number):
    assert number[-1] == ref_id_check(number[:17])
    validate_id_number(number)


@pytest.mark.parametrize("number", RANDOM_IDS[:20])
def test_generated_id_number_with_any_other_check_char_is_rejected(number):
    for wrong in "0123456789X":
        if wrong != number[-1]:
            assert error_of(validate_id_number, with_last(number, wrong)).code == "checksum"


# --- resident ID numbers: invalid ----------------------------------------------------------------


@pytest.mark.parametrize("wrong", list("0123456789"))
def test_id_number_with_wrong_check_digit_is_rejected(wrong):
    error = error_of(validate_id_number, with_last(STANDARD_ID, wrong))
    assert error.code == "checksum"


def test_id_number_with_one_mistyped_sequence_digit_is_rejected_by_checksum():
    mistyped = STANDARD_ID[:14] + "012" + STANDARD_ID[17]
    assert error_of(validate_id_number, mistyped).code == "checksum"


@pytest.mark.parametrize(
    "birth",
    [
        "19490230",  # 30 February
        "19491301",  # month 13
        "19490001",  # month 0
        "19490100",  # day 0
        "19490431",  # 31 April
        "19000229",  # 1900 was not a leap year
        "20230229",
    ],
)
def test_id_number_with_impossible_birth_date_is_rejected(birth):
    error = error_of(validate_id_number, make_id(birth=birth))
    assert error.code == "birth_date"
    assert birth in message_of(error)
    assert "not a real date" in message_of(error)


def test_id_number_born_before_1900_is_rejected():
    error = error_of(validate_id_number, make_id(birth="18991231"))
    assert error.code == "birth_date"
    assert "1900" in message_of(error)


def test_id_number_with_future_birth_date_is_rejected():
    future = datetime.datetime.now(CHINA).date() + datetime.timedelta(days=2)
    error = error_of(validate_id_number, make_id(birth=future.strftime("%Y%m%d")))
    assert error.code == "birth_date"
    assert "future" in message_of(error)


def test_id_number_born_today_in_china_is_valid_even_while_it_is_still_yesterday_in_utc():
    # 00:30 on 1 June 2024 in Beijing is 16:30 on 31 May in UTC.
    moment = datetime.datetime(2024, 6, 1, 0, 30, tzinfo=CHINA)
    with time_machine.travel(moment, tick=False):
        validate_id_number(make_id(birth="20240601"))
        assert error_of(validate_id_number, make_id(birth="20240602")).code == "birth_date"


@pytest.mark.parametrize("number", [STANDARD_ID[:17], STANDARD_ID + "1", "", "1101051949123100"])
def test_id_number_with_wrong_length_is_rejected(number):
    error = error_of(validate_id_number, number)
    assert error.code == "length"
    message = message_of(error)
    assert "18" in message
    assert str(len(number)) in message


def test_id_number_with_lower_case_x_is_rejected_by_validator():
    error = error_of(validate_id_number, STANDARD_ID.lower())
    assert error.code == "format"
    assert "capital X" in message_of(error)


def test_id_number_with_lower_case_x_is_accepted_after_normalisation():
    normalised = normalize_id_number(STANDARD_ID.lower())
    assert normalised == STANDARD_ID
    validate_id_number(normalised)


FULL_WIDTH_ID = "１１０１０５１９４９１２３１００２Ｘ"


def test_id_number_in_full_width_characters_is_rejected_by_validator():
    error = error_of(validate_id_number, FULL_WIDTH_ID)
    assert error.code == "format"
    assert "full-width" in message_of(error)


def test_id_number_in_full_width_characters_is_accepted_after_normalisation():
    normalised = normalize_id_number(FULL_WIDTH_ID)
    assert normalised == STANDARD_ID
    validate_id_number(normalised)


def test_normalisation_removes_spaces_including_full_width_spaces():
    assert normalize_id_number(" 110105 19491231\u3000002x\n") == STANDARD_ID
    assert normalize_id_number("110105\u200b19491231002X") == STANDARD_ID  # zero-width space


@pytest.mark.parametrize(
    "number", [" 1010519491231002X", "110105 9491231002X", "11010519491231002 "]
)
def test_id_number_with_space_inside_is_rejected_by_validator(number):
    assert error_of(validate_id_number, number).code == "format"


@pytest.mark.parametrize(
    ("number", "position", "char"),
    [
        ("1101051949A231002X", 11, "A"),
        ("X1010519491231002X", 1, "X"),
        ("11010519491231O02X", 15, "O"),
        ("110105身9491231002X", 7, "身"),
    ],
)
def test_id_number_with_letters_inside_is_rejected(number, position, char):
    error = error_of(validate_id_number, number)
    assert error.code == "format"
    assert error.params == {"char": char, "position": position}
    assert f"position {position}" in message_of(error)


@pytest.mark.parametrize("last", ["Y", "A", "*", "-"])
def test_id_number_with_check_char_that_is_neither_digit_nor_x_is_rejected(last):
    error = error_of(validate_id_number, with_last(STANDARD_ID, last))
    assert error.code == "format"
    assert last in message_of(error)


@pytest.mark.parametrize(
    "region", ["00", "10", "16", "20", "24", "38", "47", "55", "66", "72", "84", "90", "99"]
)
def test_id_number_with_impossible_region_is_rejected(region):
    error = error_of(validate_id_number, make_id(region=region))
    assert error.code == "region"
    assert region in message_of(error)


def test_id_number_validator_reports_only_the_first_problem_in_order():
    # bad characters beat everything after them
    assert error_of(validate_id_number, "991105194913XX002Y").code == "format"
    # bad region beats an impossible birth date and a wrong check character
    bad_everything = with_last(make_id(region="99", birth="19491301"), "0")
    assert error_of(validate_id_number, bad_everything).code == "region"
    # an impossible birth date beats a wrong check character
    bad_date_and_check = make_id(birth="19491301")
    bad_date_and_check = with_last(
        bad_date_and_check, "X" if bad_date_and_check[-1] != "X" else "0"
    )
    assert error_of(validate_id_number, bad_date_and_check).code == "birth_date"


@pytest.mark.parametrize("bad", ["1234567890123456", "12345678901234567X", "1101051949123100x"])
def test_id_number_check_char_helper_rejects_anything_but_17_digits(bad):
    with pytest.raises(ValueError):
        id_number_check_char(bad)


def test_id_number_validator_works_as_a_django_field_validator():
    from django import forms

    class IdForm(forms.Form):
        id_number = forms.CharField(validators=[validate_id_number])

    assert IdForm({"id_number": STANDARD_ID}).is_valid()
    form = IdForm({"id_number": with_last(STANDARD_ID, "1")})
    assert not form.is_valid()
    assert form.errors.as_data()["id_number"][0].code == "checksum"


# --- masking -------------------------------------------------------------------------------------


def test_mask_id_number_keeps_first_six_and_last_four():
    assert mask_id_number("433101199001011234") == "433101********1234"
    assert mask_id_number(STANDARD_ID) == "110105********002X"


@pytest.mark.parametrize("value", ["", "43310119900101123", "4331011990010112345", None])
def test_mask_id_number_hides_everything_when_not_18_characters(value):
    assert mask_id_number(value) == "******"


# --- unified social credit codes ---------------------------------------------------------------


def test_published_example_credit_code_is_valid():
    validate_credit_code(EXAMPLE_CREDIT_CODE)
    assert credit_code_check_char(EXAMPLE_CREDIT_CODE[:17]) == "3"


def _random_credit_codes(count: int, seed: int = 32100) -> list[str]:
    rng = random.Random(seed)
    codes = []
    for _ in range(count):
        first17 = rng.choice("159Y") + rng.choice("123")
        first17 += "".join(rng.choice("0123456789") for _ in range(6))
        first17 += "".join(rng.choice(REF_CREDIT_ALPHABET) for _ in range(9))
        codes.append(first17 + credit_code_check_char(first17))
    return codes


@pytest.mark.parametrize("code", _random_credit_codes(50))
def test_generated_credit_code_is_valid_and_check_char_matches_reference(code):
    assert code[-1] == ref_credit_check(code[:17])
    validate_credit_code(code)


def test_credit_code_whose_check_value_would_be_31_uses_0():
    assert credit_code_check_char("0" * 17) == "0"
    validate_credit_code("0" * 18)


@pytest.mark.parametrize("wrong", ["0", "1", "A", "Y", "4"])
def test_credit_code_with_wrong_check_char_is_rejected(wrong):
    error = error_of(validate_credit_code, with_last(EXAMPLE_CREDIT_CODE, wrong))
    assert error.code == "checksum"


@pytest.mark.parametrize("letter", ["I", "O", "Z", "S", "V"])
def test_credit_code_with_forbidden_letter_is_rejected(letter):
    code = EXAMPLE_CREDIT_CODE[:8] + letter + EXAMPLE_CREDIT_CODE[9:]
    error = error_of(validate_credit_code, code)
    assert error.code == "format"
    assert error.params["char"] == letter
    assert error.params["position"] == 9
    message = message_of(error)
    assert f"“{letter}”" in message
    assert "Character 9" in message


def test_credit_code_with_forbidden_check_char_is_rejected_as_format():
    assert error_of(validate_credit_code, with_last(EXAMPLE_CREDIT_CODE, "S")).code == "format"


def test_credit_code_with_letter_in_division_code_is_rejected():
    code = make_credit("91A50100M000100Y4")
    error = error_of(validate_credit_code, code)
    assert error.code == "format"
    assert error.params == {"char": "A", "position": 3}


@pytest.mark.parametrize("code", [EXAMPLE_CREDIT_CODE[:17], EXAMPLE_CREDIT_CODE + "0", ""])
def test_credit_code_with_wrong_length_is_rejected(code):
    error = error_of(validate_credit_code, code)
    assert error.code == "length"
    assert str(len(code)) in message_of(error)


def test_credit_code_in_lower_case_is_rejected_by_validator_but_accepted_after_normalisation():
    lower = EXAMPLE_CREDIT_CODE.lower()
    error = error_of(validate_credit_code, lower)
    assert error.code == "format"
    assert "capital" in message_of(error)
    normalised = normalize_credit_code(lower)
    assert normalised == EXAMPLE_CREDIT_CODE
    validate_credit_code(normalised)


def test_credit_code_normalisation_removes_spaces_and_full_width_characters():
    assert normalize_credit_code(" ９１３５０１００ m000100y43\u3000") == EXAMPLE_CREDIT_CODE


@pytest.mark.parametrize("bad", ["0" * 16, "0" * 17 + "I"])
def test_credit_code_check_char_helper_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        credit_code_check_char(bad)


# --- mobile numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [f"1{d}812345678" for d in "3456789"])
def test_valid_mainland_mobile_is_accepted(number):
    validate_mainland_mobile(number)


@pytest.mark.parametrize(
    "typed",
    [
        "+86 138 1234 5678",
        "+86-138-1234-5678",
        "8613812345678",
        "0086 138 1234 5678",
        "138-1234-5678",
    ],
)
def test_mobile_with_country_code_or_separators_is_accepted_after_normalisation(typed):
    normalised = normalize_mobile(typed)
    assert normalised == "13812345678"
    validate_mainland_mobile(normalised)


def test_mobile_with_country_code_is_rejected_by_validator_without_normalisation():
    assert error_of(validate_mainland_mobile, "+8613812345678").code == "mobile"


def test_normalisation_keeps_86_at_the_start_of_an_11_digit_number():
    assert normalize_mobile("86123456789") == "86123456789"


@pytest.mark.parametrize("typed", ["010-12345678", "0755-8888 6666"])
def test_landline_number_is_rejected(typed):
    error = error_of(validate_mainland_mobile, normalize_mobile(typed))
    assert error.code == "mobile"


def test_landline_with_11_digits_gets_a_landline_message():
    error = error_of(validate_mainland_mobile, normalize_mobile("010-12345678"))
    assert "landline" in message_of(error)


@pytest.mark.parametrize("number", ["12812345678", "1381234567", "138123456789", "1381234567a"])
def test_malformed_mobile_is_rejected(number):
    assert error_of(validate_mainland_mobile, number).code == "mobile"
