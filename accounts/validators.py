"""Validators for Chinese identity numbers, unified social credit codes and mobile numbers.

Each ``validate_*`` function is a plain callable that takes the value and raises
:class:`~django.core.exceptions.ValidationError` (with a stable ``code``) for the first problem it
finds, so it can be listed in a model or form field's ``validators``. The validators are strict:
they do not clean up what the user typed. Tidying input (spaces, full-width characters, a
lower-case ``x``, a ``+86`` prefix) is the job of the matching ``normalize_*`` function, which a
form calls in its ``clean_<field>()`` before validating.

Standards:

* Resident ID number (居民身份证号码): GB 11643-1999, check character ISO 7064 MOD 11-2.
* Unified social credit code (统一社会信用代码): GB 32100-2015, check character MOD 31.
"""

import datetime
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

__all__ = [
    "ID_NUMBER_LENGTH",
    "ID_NUMBER_MIN_BIRTH_DATE",
    "CREDIT_CODE_LENGTH",
    "CREDIT_CODE_ALPHABET",
    "ID_NUMBER_REGION_CODES",
    "normalize_id_number",
    "validate_id_number",
    "id_number_check_char",
    "mask_id_number",
    "normalize_credit_code",
    "validate_credit_code",
    "credit_code_check_char",
    "normalize_mobile",
    "validate_mainland_mobile",
]

# China has used a single time zone (UTC+8, no daylight saving) since 1991; birth dates on ID
# numbers are Chinese calendar dates, so "the future" is judged by the date in China, whatever
# the server's own time zone is.
_CHINA_TZ = datetime.timezone(datetime.timedelta(hours=8), "CST")

# Zero-width and other invisible formatting characters that sneak in when numbers are copied
# from documents and chat apps. They are removed together with whitespace.
_INVISIBLE_CATEGORIES = frozenset({"Cf"})
_WHITESPACE_RE = re.compile(r"\s+")

# --------------------------------------------------------------------------------------------
# Resident ID number (GB 11643-1999)
# --------------------------------------------------------------------------------------------

ID_NUMBER_LENGTH = 18
ID_NUMBER_MIN_BIRTH_DATE = datetime.date(1900, 1, 1)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ASCII_DIGITS = frozenset("0123456789")

#: First two digits of the administrative division code: provinces, autonomous regions and
#: municipalities (11-65), Taiwan (71), Hong Kong (81), Macao (82), Taiwan residents' residence
#: permits (83) and permanent residence of foreigners (91).
ID_NUMBER_REGION_CODES = frozenset(
    [str(n) for n in range(11, 16)]
    + [str(n) for n in range(21, 24)]
    + [str(n) for n in range(31, 38)]
    + [str(n) for n in range(41, 47)]
    + [str(n) for n in range(50, 55)]
    + [str(n) for n in range(61, 66)]
    + ["71", "81", "82", "83", "91"]
)


def _china_today() -> datetime.date:
    """Today's date in China (UTC+8)."""
    return datetime.datetime.now(_CHINA_TZ).date()


def _strip_blanks(value: str) -> str:
    """Remove all whitespace (after NFKC, which maps U+3000 to a space) and invisible chars."""
    value = _WHITESPACE_RE.sub("", value)
    return "".join(ch for ch in value if unicodedata.category(ch) not in _INVISIBLE_CATEGORIES)


def _is_full_width(ch: str) -> bool:
    """True for full-width forms such as '１' or 'Ｘ' that NFKC maps to ASCII."""
    return unicodedata.east_asian_width(ch) == "F"


def normalize_id_number(value: str) -> str:
    """Tidy a typed ID number without validating it.

    Removes every whitespace character (including the full-width space U+3000) and invisible
    formatting characters, converts full-width characters to half-width (NFKC) and upper-cases a
    final ``x`` to ``X``.
    """
    if value is None:
        return ""
    value = unicodedata.normalize("NFKC", str(value))
    value = _strip_blanks(value)
    if value.endswith("x"):
        value = value[:-1] + "X"
    return value


def id_number_check_char(first17: str) -> str:
    """Return the GB 11643 check character ('0'-'9' or 'X') for the first 17 digits.

    Raises :class:`ValueError` (a programming error, not a user error) if ``first17`` is not
    exactly 17 ASCII digits.
    """
    if len(first17) != ID_NUMBER_LENGTH - 1 or not set(first17) <= _ASCII_DIGITS:
        raise ValueError(f"expected 17 ASCII digits, got {first17!r}")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def _id_number_format_error(value: str) -> ValidationError | None:
    """The first character problem in an 18-character ID number, or None."""
    for position, ch in enumerate(value, start=1):
        if _is_full_width(ch):
            return ValidationError(
                _(
                    "The ID number contains the full-width character “%(char)s” at position "
                    "%(position)d. Type it with half-width (ordinary) digits and a capital X."
                ),
                code="format",
                params={"char": ch, "position": position},
            )
    for position, ch in enumerate(value[:-1], start=1):
        if ch not in _ASCII_DIGITS:
            return ValidationError(
                _(
                    "The first 17 characters of an ID number must all be digits, but position "
                    "%(position)d is “%(char)s”. Only the last character may be the letter X."
                ),
                code="format",
                params={"char": ch, "position": position},
            )
    last = value[-1]
    if last == "x":
        return ValidationError(
            _("The last character of the ID number must be a capital X, not a lower-case x."),
            code="format",
        )
    if last not in _ASCII_DIGITS and last != "X":
        return ValidationError(
            _(
                "The last character of an ID number must be a digit or a capital X, "
                "but it is “%(char)s”."
            ),
            code="format",
            params={"char": last},
        )
    return None


def validate_id_number(value: str) -> None:
    """Validate a mainland resident ID number (GB 11643-1999, 18 characters).

    Checks, in order, and reports only the first problem: length (code ``length``), characters
    (``format``), region (``region``), birth date (``birth_date``) and check character
    (``checksum``). Input must already be normalised (see :func:`normalize_id_number`).
    """
    value = "" if value is None else str(value)

    if len(value) != ID_NUMBER_LENGTH:
        raise ValidationError(
            _("An ID number must be exactly 18 characters long; you entered %(length)d."),
            code="length",
            params={"length": len(value)},
        )

    error = _id_number_format_error(value)
    if error is not None:
        raise error

    region = value[:2]
    if region not in ID_NUMBER_REGION_CODES:
        raise ValidationError(
            _(
                "The ID number starts with “%(region)s”, which is not a province or region code. "
                "Please check the first two digits."
            ),
            code="region",
            params={"region": region},
        )

    birth_digits = value[6:14]
    try:
        birth_date = datetime.date(
            int(birth_digits[:4]), int(birth_digits[4:6]), int(birth_digits[6:])
        )
    except ValueError:
        raise ValidationError(
            _(
                "Digits 7 to 14 of an ID number are the date of birth (YYYYMMDD), but "
                "“%(digits)s” is not a real date."
            ),
            code="birth_date",
            params={"digits": birth_digits},
        ) from None
    if birth_date < ID_NUMBER_MIN_BIRTH_DATE:
        raise ValidationError(
            _(
                "The date of birth in the ID number (%(date)s) is before 1 January 1900. "
                "Please check digits 7 to 14."
            ),
            code="birth_date",
            params={"date": birth_date.isoformat()},
        )
    if birth_date > _china_today():
        raise ValidationError(
            _(
                "The date of birth in the ID number (%(date)s) is in the future. "
                "Please check digits 7 to 14."
            ),
            code="birth_date",
            params={"date": birth_date.isoformat()},
        )

    if id_number_check_char(value[:17]) != value[17]:
        raise ValidationError(
            _(
                "The last character of the ID number does not match the others, so at least "
                "one character has been mistyped. Please compare it with the ID card."
            ),
            code="checksum",
        )


def mask_id_number(value: str) -> str:
    """Mask an ID number for display: first 6 + ``********`` + last 4.

    Anything that is not 18 characters long is masked completely as ``******``.
    """
    if not isinstance(value, str) or len(value) != ID_NUMBER_LENGTH:
        return "******"
    return f"{value[:6]}********{value[-4:]}"


# --------------------------------------------------------------------------------------------
# Unified social credit code (GB 32100-2015)
# --------------------------------------------------------------------------------------------

CREDIT_CODE_LENGTH = 18
#: The 31 characters allowed in a credit code; a character's value is its index here.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUES = {ch: i for i, ch in enumerate(CREDIT_CODE_ALPHABET)}
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Letters left out of the alphabet because they are easily confused with a digit or letter.
_CREDIT_FORBIDDEN_HINTS = {"I": "1", "O": "0", "Z": "2", "S": "5", "V": "U"}


def normalize_credit_code(value: str) -> str:
    """Tidy a typed credit code without validating it.

    Removes all whitespace and invisible formatting characters, converts full-width characters
    to half-width (NFKC) and upper-cases the letters.
    """
    if value is None:
        return ""
    value = unicodedata.normalize("NFKC", str(value))
    return _strip_blanks(value).upper()


def credit_code_check_char(first17: str) -> str:
    """Return the GB 32100 check character for the first 17 characters of a credit code.

    Raises :class:`ValueError` if ``first17`` is not 17 characters from
    :data:`CREDIT_CODE_ALPHABET`.
    """
    if len(first17) != CREDIT_CODE_LENGTH - 1 or any(ch not in _CREDIT_VALUES for ch in first17):
        raise ValueError(f"expected 17 credit-code characters, got {first17!r}")
    total = sum(
        _CREDIT_VALUES[ch] * weight for ch, weight in zip(first17, _CREDIT_WEIGHTS, strict=True)
    )
    check_value = 31 - total % 31
    if check_value == 31:
        check_value = 0
    return CREDIT_CODE_ALPHABET[check_value]


def _credit_code_char_error(ch: str, position: int) -> ValidationError:
    """The message for a character outside the credit-code alphabet."""
    params = {"char": ch, "position": position}
    if _is_full_width(ch):
        return ValidationError(
            _(
                "The credit code contains the full-width character “%(char)s” at position "
                "%(position)d. Type it with half-width (ordinary) letters and digits."
            ),
            code="format",
            params=params,
        )
    if ch.islower() and ch.upper() in _CREDIT_VALUES:
        return ValidationError(
            _(
                "Character %(position)d of the credit code is the lower-case letter “%(char)s”; "
                "credit codes use capital letters only."
            ),
            code="format",
            params=params,
        )
    hint = _CREDIT_FORBIDDEN_HINTS.get(ch.upper())
    if hint is not None:
        return ValidationError(
            _(
                "Character %(position)d of the credit code is “%(char)s”, but the letters I, O, "
                "S, V and Z are never used in credit codes. Did you mean “%(hint)s”?"
            ),
            code="format",
            params={**params, "hint": hint},
        )
    return ValidationError(
        _(
            "Character %(position)d of the credit code is “%(char)s”, which is not allowed. "
            "Credit codes contain only digits and the capital letters A–Y except I, O, S, V "
            "and Z."
        ),
        code="format",
        params=params,
    )


def validate_credit_code(value: str) -> None:
    """Validate a unified social credit code (GB 32100-2015, 18 characters).

    Checks, in order, and reports only the first problem: length (code ``length``), characters
    (``format``: a character outside the alphabet, or a non-digit in the administrative division
    code at positions 3-8) and check character (``checksum``). Input must already be normalised
    (see :func:`normalize_credit_code`).
    """
    value = "" if value is None else str(value)

    if len(value) != CREDIT_CODE_LENGTH:
        raise ValidationError(
            _("A credit code must be exactly 18 characters long; you entered %(length)d."),
            code="length",
            params={"length": len(value)},
        )

    for position, ch in enumerate(value, start=1):
        if ch not in _CREDIT_VALUES:
            raise _credit_code_char_error(ch, position)

    for position in range(3, 9):
        ch = value[position - 1]
        if ch not in _ASCII_DIGITS:
            raise ValidationError(
                _(
                    "Characters 3 to 8 of a credit code are the administrative division code "
                    "and must be digits, but position %(position)d is “%(char)s”."
                ),
                code="format",
                params={"char": ch, "position": position},
            )

    if credit_code_check_char(value[:17]) != value[17]:
        raise ValidationError(
            _(
                "The last character of the credit code does not match the others, so at least "
                "one character has been mistyped. Please compare it with the business licence."
            ),
            code="checksum",
        )


# --------------------------------------------------------------------------------------------
# Mainland mobile numbers
# --------------------------------------------------------------------------------------------

_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
_MOBILE_SEPARATORS_RE = re.compile(r"[\s\-]+")


def normalize_mobile(value: str) -> str:
    """Tidy a typed mainland mobile number without validating it.

    Converts full-width characters to half-width (NFKC), removes spaces and dashes, and drops a
    leading ``+86``, ``0086`` or (on a 13-digit number) ``86`` country code.
    """
    if value is None:
        return ""
    value = unicodedata.normalize("NFKC", str(value))
    value = _MOBILE_SEPARATORS_RE.sub("", value)
    value = "".join(ch for ch in value if unicodedata.category(ch) not in _INVISIBLE_CATEGORIES)
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086") and len(value) == 15:
        value = value[4:]
    elif value.startswith("86") and len(value) == 13:
        value = value[2:]
    return value


def validate_mainland_mobile(value: str) -> None:
    """Validate a mainland China mobile number: 11 digits matching ``^1[3-9]\\d{9}$``.

    Every problem uses the code ``mobile``; the message says what is wrong. Input must already
    be normalised (see :func:`normalize_mobile`).
    """
    value = "" if value is None else str(value)
    if _MOBILE_RE.match(value):
        return
    if not value.isascii() or not value.isdigit():
        message = _(
            "Enter the mobile number as 11 digits only, without spaces, dashes or a country code."
        )
    elif len(value) != 11:
        message = _("A mobile number has 11 digits; you entered %(length)d.")
    elif value.startswith("0"):
        message = _(
            "This looks like a landline number. Please enter an 11-digit mobile number "
            "starting with 1."
        )
    else:
        message = _("This is not a valid mainland mobile number: it must start with 13 to 19.")
    raise ValidationError(message, code="mobile", params={"length": len(value)})
