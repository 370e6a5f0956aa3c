"""core.throttle: limits read from a setting."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.throttle import parse_rates, wait_text


def test_a_rate_setting_gives_one_limit_per_period():
    minute, day = parse_rates("20/m, 200/d", scope="x")
    assert (minute.limit, minute.period, day.limit, day.period) == (20, 60, 200, 86400)
    assert minute.scope != day.scope  # counted apart
    assert minute.fail_open and day.fail_open
    assert parse_rates("", scope="x") == ()


@pytest.mark.parametrize("spec", ["20", "20/min", "x/m", "20/m;200/d"])
def test_a_malformed_rate_is_refused_with_the_format(spec):
    with pytest.raises(ImproperlyConfigured, match="COUNT/PERIOD"):
        parse_rates(spec, scope="x")


def test_the_wait_reads_in_the_largest_whole_unit(english):
    assert [wait_text(s) for s in (60, 120, 86400, 3600, 45)] == [
        "1 minute",
        "2 minutes",
        "24 hours",
        "1 hour",
        "45 seconds",
    ]
