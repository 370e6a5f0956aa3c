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


def worker_process(
    redis_url: str, *, queue: str, env: dict[str, str] | None = None, concurrency: int = 1
) -> subprocess.Popen:
    """Start a worker process listening on `queue` (also its default queue). The caller stops
    it (`stop_worker`) or kills it."""
    worker_env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        **(env or {}),
    }
    pool = (
        ["--pool=solo"] if concurrency == 1 else ["--pool=prefork", f"--concurrency={concurrency}"]
    )
    return subprocess.Popen(
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


def stop_worker(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def celery_worker(
    redis_url: str,
    *,
    env: dict[str, str] | None = None,
    concurrency: int = 1,
    queue: str | None = None,
) -> Iterator[str]:
    """Start a worker listening on a fresh queue (or `queue`) and yield the queue's name. The
    worker also uses that queue as its default, so the tasks it queues itself come back to it."""
    from portal.celery import app

    queue = queue or f"test-{uuid.uuid4().hex[:8]}"
    app.conf.task_always_eager = False
    proc = worker_process(redis_url, queue=queue, env=env, concurrency=concurrency)
    try:
        yield queue
    finally:
        stop_worker(proc)
        app.conf.task_always_eager = True
