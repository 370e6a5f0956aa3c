from celery import shared_task
from django.core.cache import cache


@shared_task(name="portal.ping")
def ping(token: str) -> str:
    """Liveness probe for workers: records that a worker ran it and answers with the token."""
    cache.set(f"celery-ping:{token}", "pong", timeout=300)
    return token
