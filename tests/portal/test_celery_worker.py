"""A real task through the real Redis broker to a real worker process."""

import time
import uuid

import pytest
from django.conf import settings
from django.core.cache import cache

from portal.tasks import ping
from tests.workers import celery_worker


@pytest.fixture
def real_worker(settings):
    with celery_worker(settings.REDIS_URL) as queue:
        yield queue


@pytest.mark.worker
def test_task_runs_on_a_real_worker_through_redis(real_worker):
    token = uuid.uuid4().hex
    result = ping.apply_async(args=[token], queue=real_worker)
    # The worker process answers through the Redis result backend ...
    assert result.get(timeout=60) == token
    # ... and its effect is visible here: it wrote to the shared Redis cache.
    deadline = time.monotonic() + 10
    while cache.get(f"celery-ping:{token}") is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert cache.get(f"celery-ping:{token}") == "pong"
    assert settings.CELERY_BROKER_URL.startswith("redis://")
