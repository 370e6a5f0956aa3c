"""core.dateformats gives exactly Django's text, for the numeric formats it speeds up and for
the ones it leaves to Django."""

import datetime as dt

import pytest
from django.utils import dateformat

from core.dateformats import _compiled, format_date

MOMENTS = [
    dt.datetime(2026, 1, 2, 3, 4, 5),
    dt.datetime(2027, 12, 31, 23, 59, 59),
    dt.datetime(999, 7, 8, 0, 0, 0),
    dt.date(2026, 3, 31),
]


@pytest.mark.parametrize(
    "fmt",
    ["Y年n月j日 H:i", "Y年n月j日", "Y-m-d H:i:s", "d/m/Y G:i", r"\Y\e\a\r Y {}", "N j, Y, P"],
)
@pytest.mark.parametrize("moment", MOMENTS)
def test_the_same_text_as_django(fmt, moment):
    if isinstance(moment, dt.datetime) or not any(c in fmt for c in "HGisP"):
        assert format_date(moment, fmt) == dateformat.format(moment, fmt)


def test_only_numeric_formats_are_compiled():
    assert (
        _compiled("Y年n月j日 H:i")
        == "{0.year:04d}年{0.month}月{0.day}日 {0.hour:02d}:{0.minute:02d}"
    )
    assert _compiled("N j, Y, P") is None  # month names and a.m./p.m.: Django's
