"""The cache on Redis, and what its callers get when Redis is down or hung.

`RedisCache` is Django's Redis cache that fails fast: each call already gives up after the
socket timeouts of settings.CACHES (0.5 s), but a request that touches the cache several times
(a log-in goes through allauth's lock, read and write of three limits) would wait that long on
each call. Once a call has failed for want of Redis, every call of the process fails at once
(`CacheUnavailable`) for `retry_after` seconds (OPTIONS, default 5), then Redis is tried again.
So a hung Redis costs one request of each process at most 0.5 s every few seconds; the others
fail in their defined way without waiting. The health check asks Redis itself, never skipped.

What a failure means is each caller's decision (README "Faults"): our rate limits say it
(`core.ratelimit.Limit.fail_open`); allauth's limits are made to fail open with
`FailOpenCache` (accounts/apps.py), allauth's one-time codes fail closed (accounts/forms.py).
"""

from __future__ import annotations

import functools
import logging
import time

import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

log = logging.getLogger(__name__)

#: What a cache call raises when Redis is down, hung, or skipped for a while.
CACHE_ERRORS: tuple[type[Exception], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)

#: Until when (time.monotonic) calls to a set of servers are not tried, per process.
_down_until: dict[tuple[str, ...], float] = {}


class CacheUnavailable(redis.exceptions.ConnectionError):
    """Redis failed a moment ago: not asked again yet."""


class FailFastClient(RedisCacheClient):
    def __init__(self, servers, *, retry_after: float = 5.0, **options):
        super().__init__(servers, **options)
        self._key = tuple(servers)
        self._retry_after = float(retry_after)


def _fail_fast(name: str):
    method = getattr(RedisCacheClient, name)

    @functools.wraps(method)
    def call(self: FailFastClient, *args, **kwargs):
        if time.monotonic() < _down_until.get(self._key, 0.0):
            raise CacheUnavailable(f"Redis failed less than {self._retry_after:g} s ago")
        try:
            return method(self, *args, **kwargs)
        except CACHE_ERRORS:
            _down_until[self._key] = time.monotonic() + self._retry_after
            raise

    return call


for _name in (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
):
    setattr(FailFastClient, _name, _fail_fast(_name))


class RedisCache(DjangoRedisCache):
    """`django.core.cache.backends.redis.RedisCache` failing fast (see the module)."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = FailFastClient


class FailOpenCache:
    """A cache whose failures read as "nothing there, go on": `add` succeeds, `get` gives the
    default, `set` and `delete` do nothing. For a rate limit that must not take its page down
    with Redis (allauth's: a lock, a read and a write per limit)."""

    def __init__(self, cache):
        self._cache = cache

    def _call(self, name: str, fallback, *args, **kwargs):
        try:
            return getattr(self._cache, name)(*args, **kwargs)
        except CacheUnavailable:
            return fallback  # the failure that opened it was logged
        except CACHE_ERRORS as exc:
            log.warning("cache unavailable, %s skipped: %s", name, type(exc).__name__)
            return fallback

    def add(self, *args, **kwargs) -> bool:
        return self._call("add", True, *args, **kwargs)

    def get(self, key, default=None, **kwargs):
        return self._call("get", default, key, default, **kwargs)

    def set(self, *args, **kwargs) -> None:
        self._call("set", None, *args, **kwargs)

    def delete(self, *args, **kwargs) -> bool:
        return self._call("delete", False, *args, **kwargs)
