"""A real Celery worker process for the tests marked `worker`: the real Redis broker, a queue of
its own (so that no other worker on the machine takes its tasks), stopped when the block ends."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def celery_worker(
    redis_url: str, *, env: dict[str, str] | None = None, concurrency: int = 1
) -> Iterator[str]:
    """Start a worker listening on a fresh queue and yield the queue's name. The worker also
    uses that queue as its default, so the tasks it queues itself come back to it."""
    from portal.celery import app

    queue = f"test-{uuid.uuid4().hex[:8]}"
    app.conf.task_always_eager = False
    worker_env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        **(env or {}),
    }
    pool = (
        ["--pool=solo"] if concurrency == 1 else ["--pool=prefork", f"--concurrency={concurrency}"]
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            *pool,
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
        env=worker_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield queue
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        app.conf.task_always_eager = True
