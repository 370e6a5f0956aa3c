"""Rate limits of our own pages, counted in the shared cache (Redis), so that every web worker
sees the same count.

A limit is a fixed window: at most `limit` hits per `period` seconds for one key (a client
address, an account). When the cache cannot be reached, each caller says which way to fail:
`fail_open=True` serves the request (public pages stay up when Redis is down; the nginx limit in
front of them still holds), `fail_open=False` refuses it (look-ups that could be used to probe
identities are refused rather than allowed unlimited).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from allauth.core.internal.httpkit import get_client_ip
from django.core.cache import cache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    """At most `limit` hits per `period` seconds."""

    scope: str
    limit: int
    period: int
    fail_open: bool = True


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the address the trusted proxies recorded in
    X-Forwarded-For (`ALLAUTH_TRUSTED_PROXY_COUNT`, the same setting allauth's limits use)."""
    return get_client_ip(request) or "unknown"


def _key(scope: str, ident: str) -> str:
    # Hashed: the identifier may be personal (an account, an address) and the key is stored.
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    return f"rl:{scope}:{digest}"


def hit(limit: Limit, ident: str) -> bool:
    """Count one hit for `ident` under `limit`; True when it is within the limit."""
    key = _key(limit.scope, ident)
    try:
        # add() sets the window's start; incr() counts atomically in Redis.
        cache.add(key, 0, timeout=limit.period)
        count = cache.incr(key)
    except ValueError:  # the key expired between add and incr: a new window
        try:
            cache.set(key, 1, timeout=limit.period)
        except Exception:  # noqa: BLE001
            log.warning("rate limit %s: cache unavailable", limit.scope)
            return limit.fail_open
        return True
    except Exception:  # noqa: BLE001 (Redis down or hung past its timeout)
        log.warning("rate limit %s: cache unavailable", limit.scope)
        return limit.fail_open
    return count <= limit.limit


def hit_request(limit: Limit, request) -> bool:
    """`hit` keyed by the client's address."""
    return hit(limit, client_ip(request))
