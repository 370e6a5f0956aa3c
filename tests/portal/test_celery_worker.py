"""A real task through the real Redis broker to a real worker process."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache

from portal.tasks import ping

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def real_worker(settings):
    from portal.celery import app

    app.conf.task_always_eager = False
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ)
    env["REDIS_URL"] = settings.REDIS_URL
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{queue}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        yield queue
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


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
