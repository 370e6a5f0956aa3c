"""Django's date formats ("Y年n月j日 H:i") applied fast, for lists that format a date on every
row. `django.utils.dateformat.format` interprets the format string on every call, which cost a
list page more than the rest of its rows (README, "Performance"); here a format made only of
numeric parts (Y m n d j H G i s) and literal text is turned once into a Python format string.
Any other format (English "N j, Y, P") is left to Django."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django.utils import dateformat

_PARTS = {
    "Y": "{0.year:04d}",
    "m": "{0.month:02d}",
    "n": "{0.month}",
    "d": "{0.day:02d}",
    "j": "{0.day}",
    "H": "{0.hour:02d}",
    "G": "{0.hour}",
    "i": "{0.minute:02d}",
    "s": "{0.second:02d}",
}


@lru_cache(maxsize=64)
def _compiled(fmt: str) -> str | None:
    out, escaped = [], False
    for char in fmt:
        if escaped:
            out.append(char.replace("{", "{{").replace("}", "}}"))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in _PARTS:
            out.append(_PARTS[char])
        elif char.isascii() and char.isalpha():
            return None  # a part this module does not do: Django's formatter
        else:
            out.append(char.replace("{", "{{").replace("}", "}}"))
    return "".join(out)


def format_date(value: dt.date, fmt: str) -> str:
    """`dateformat.format(value, fmt)`, the same text, faster for numeric formats."""
    compiled = _compiled(fmt)
    if compiled is None:
        return dateformat.format(value, fmt)
    return compiled.format(value)
