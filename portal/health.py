"""Dependency checks behind /healthz.

The public probe asks PostgreSQL and Redis only, each bounded well under a second, so that a
burst of probes costs milliseconds each and never holds a web worker. The Celery check (a
broadcast ping that waits for the workers' answers) is for staff and for a monitor that sends
the configured token, and its result is cached, so that a burst costs one broadcast.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from portal.celery import app

#: The probe's query gives up after this long (the session's own limit is left untouched).
DATABASE_TIMEOUT_MS = 500
#: How long a worker check's answer is reused.
CELERY_CACHE_SECONDS = 30
CELERY_CACHE_KEY = "healthz:celery"
_CELERY_LOCK_KEY = "healthz:celery:running"
#: The header a monitor sends the token in (HEALTHZ_TOKEN).
TOKEN_HEADER = "X-Health-Token"


def check_database(timeout_ms: int = DATABASE_TIMEOUT_MS) -> tuple[bool, str]:
    """PostgreSQL answers a query within `timeout_ms`. (Connecting anew is bounded by the
    connection's `connect_timeout`, see settings.)"""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # Local to the transaction (not the persistent connection's later requests), and
            # put back afterwards for a caller that is already in one.
            cursor.execute(
                "SELECT current_setting('statement_timeout'), "
                "set_config('statement_timeout', %s, true)",
                [f"{timeout_ms}ms"],
            )
            (previous, _) = cursor.fetchone()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
        return True, "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return False, type(exc).__name__


def check_redis() -> tuple[bool, str]:
    """Redis answers a ping (the cache's client: its socket timeouts are 0.5 s)."""
    try:
        client = cache._cache.get_client(write=True)  # the same Redis the cache and Celery use
        client.ping()
        return True, "ok"
    except Exception as exc:  # noqa: BLE001
        return False, type(exc).__name__


def check_celery(timeout: float = 1.0) -> tuple[bool, str]:
    """A worker answers a broadcast ping. Not required for the portal to serve pages."""
    try:
        replies = app.control.inspect(timeout=timeout).ping() or {}
    except Exception as exc:  # noqa: BLE001
        return False, type(exc).__name__
    if not replies:
        return False, "no worker answered"
    return True, f"{len(replies)} worker(s)"


def check_celery_cached() -> tuple[bool | None, str]:
    """`check_celery`, its answer reused for `CELERY_CACHE_SECONDS`. While another request is
    broadcasting, the others do not broadcast too: they answer None ("being checked")."""
    try:
        cached = cache.get(CELERY_CACHE_KEY)
        if cached is not None:
            ok, detail = cached
            return ok, detail
        if not cache.add(_CELERY_LOCK_KEY, 1, timeout=5):
            return None, "being checked"
        try:
            ok, detail = check_celery()
            cache.set(CELERY_CACHE_KEY, (ok, detail), timeout=CELERY_CACHE_SECONDS)
        finally:
            cache.delete(_CELERY_LOCK_KEY)
    except Exception as exc:  # noqa: BLE001 (Redis went away meanwhile: no broadcast either)
        return False, type(exc).__name__
    return ok, detail


def may_check_workers(request) -> bool:
    """Staff, or a request carrying the configured token (compared in constant time)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and (user.is_staff or user.is_superuser):
        return True
    expected = getattr(settings, "HEALTHZ_TOKEN", "") or ""
    given = request.headers.get(TOKEN_HEADER, "")
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
