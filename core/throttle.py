"""Rate limits of a page, read from a setting, and the page a client gets over the limit.

A setting holds one or more limits, e.g. ``"20/m,200/d"``: at most 20 hits a minute and 200 a
day for one client address (`core.ratelimit.client_ip`: REMOTE_ADDR, or the address the trusted
proxies recorded). Each limit is a fixed window counted in the shared cache (Redis), so every
web worker sees the same count. Over any of them the client gets HTTP 429, a page in the
reader's language and a ``Retry-After`` header.

When Redis cannot be reached the limits fail open (`Limit(fail_open=True)`): the page is served
without a limit rather than taken down with the cache; the proxy's own limit still holds.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext

from .ratelimit import Limit, hit_request

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"^\s*(\d+)\s*/\s*([smhd])\s*$")


@functools.lru_cache(maxsize=32)
def parse_rates(spec: str, *, scope: str, fail_open: bool = True) -> tuple[Limit, ...]:
    """``"20/m,200/d"`` → one `Limit` per part (its own counter each). Empty: no limit."""
    limits = []
    for part in filter(str.strip, spec.split(",")):
        match = _PART.match(part)
        if match is None:
            raise ImproperlyConfigured(
                f"Rate {part!r} of {scope!r}: write COUNT/PERIOD with PERIOD one of s, m, h, d "
                "(e.g. 20/m,200/d)."
            )
        count, unit = int(match[1]), match[2]
        limits.append(
            Limit(scope=f"{scope}:{unit}", limit=count, period=PERIODS[unit], fail_open=fail_open)
        )
    return tuple(limits)


def limits_from_setting(name: str, *, scope: str) -> tuple[Limit, ...]:
    """The limits a setting holds (read at each call, so that tests and reloads see changes)."""
    return parse_rates(getattr(settings, name, "") or "", scope=scope)


def exceeded(request: HttpRequest, limits: Iterable[Limit]) -> Limit | None:
    """Count this request under every limit; the exceeded limit with the longest period (the
    one the client must wait out), or None when the request is within all of them."""
    over = None
    for limit in limits:
        if not hit_request(limit, request) and (over is None or limit.period > over.period):
            over = limit
    return over


def wait_text(seconds: int) -> str:
    """How long a client may have to wait ("1 minute", "24 hours"), in the reader's language."""
    if seconds >= 3600 and seconds % 3600 == 0:
        hours = seconds // 3600
        return ngettext("%(count)s hour", "%(count)s hours", hours) % {"count": hours}
    if seconds >= 60 and seconds % 60 == 0:
        minutes = seconds // 60
        return ngettext("%(count)s minute", "%(count)s minutes", minutes) % {"count": minutes}
    return ngettext("%(count)s second", "%(count)s seconds", seconds) % {"count": seconds}


def too_many_requests(request: HttpRequest, limit: Limit) -> HttpResponse:
    """HTTP 429: the page says when to try again, ``Retry-After`` the same in seconds (the
    window's length: the count starts again at the latest then)."""
    response = render(
        request, "core/too_many_requests.html", {"wait": wait_text(limit.period)}, status=429
    )
    response["Retry-After"] = str(limit.period)
    response["Cache-Control"] = "no-store"
    return response


def throttled(request: HttpRequest, *, setting: str, scope: str) -> HttpResponse | None:
    """Count the request under the limits of `setting`: the 429 page when one is exceeded,
    None when the view may go on."""
    over = exceeded(request, limits_from_setting(setting, scope=scope))
    return too_many_requests(request, over) if over is not None else None
