"""Dependency checks behind /healthz."""

from django.core.cache import cache
from django.db import connection

from portal.celery import app


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return False, type(exc).__name__


def check_redis() -> tuple[bool, str]:
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
