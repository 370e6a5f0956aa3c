"""Fault tests: the portal against a Redis server the test owns (stopped, paused), a mail
server the test owns, and real Celery workers that it starts and kills. No mocks.

`fault_redis` points everything this process does with Redis at the test's own server: the
cache (rate limits, the health check) through `settings.CACHES`, and Celery (publishing, the
result backend) through its app's configuration, whose connection pool and backend are rebuilt.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from notifications.models import Notice
from portal.celery import app
from tests import factories as f
from tests.workers import stop_worker, worker_process

from .redis_server import RedisServer
from .smtp_sink import SMTPSink

YEAR = timezone.localdate().year


def celery_point_at(url: str) -> None:
    """Publish to and read results from `url` from now on: `connection_for_write` reads
    `conf.broker_write_url` (→ `broker_url`) at each call, but the app keeps the pools of
    connections and producers, and the result backend, it built for the old URL: they are
    dropped (not closed: kombu keeps one pool per URL for the process and hands the same one
    back when the URL is used again)."""
    app.conf.broker_url = url
    app.conf.result_backend = url
    app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None
    app._local.backend = None


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fault_redis(settings, redis_server) -> Iterator[RedisServer]:
    """The cache and Celery of this process on the test's own Redis; publishing is real (not
    eager). Restored afterwards."""
    before = (app.conf.broker_url, app.conf.result_backend, app.conf.task_always_eager)
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": redis_server.url},
    }
    settings.REDIS_URL = settings.CELERY_BROKER_URL = redis_server.url
    settings.CELERY_RESULT_BACKEND = redis_server.url
    celery_point_at(redis_server.url)
    app.conf.task_always_eager = False
    yield redis_server
    celery_point_at(before[0])
    app.conf.result_backend = before[1]
    app.conf.task_always_eager = before[2]


@pytest.fixture
def smtp_sink() -> Iterator[SMTPSink]:
    with SMTPSink() as sink:
        yield sink


def database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}"
        f"@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    )


def start_worker(redis: RedisServer, sink: SMTPSink, *, concurrency: int = 1):
    """A real worker process on the test database and the test's Redis, its mail going to
    `sink`, on the queue this process publishes to (the Redis is the test's own: no other
    worker takes from it). The caller stops it (`stop_worker`) or kills it."""
    env = {"DATABASE_URL": database_url(), "EMAIL_URL": sink.url}
    return worker_process(
        redis.url, queue=app.conf.task_default_queue, env=env, concurrency=concurrency
    )


@contextlib.contextmanager
def worker_on(redis: RedisServer, sink: SMTPSink, *, concurrency: int = 1):
    proc = start_worker(redis, sink, concurrency=concurrency)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            stop_worker(proc)


def wait_until(predicate, timeout: float = 30.0, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


def backdate_notices(minutes: int = 3) -> None:
    """Let the notices' creation lie `minutes` in the past, as if the sweep's next beat had
    come (the sweep leaves pending notices younger than two minutes to their own task)."""
    Notice.objects.update(created_at=timezone.now() - dt.timedelta(minutes=minutes))


@dataclass
class Timed:
    value: object
    seconds: float


def timed(fn, *args, **kwargs) -> Timed:
    started = time.monotonic()
    value = fn(*args, **kwargs)
    return Timed(value, time.monotonic() - started)


@pytest.fixture
def submitted_filing(world):
    """The manager's filing of YEAR, submitted to the firm (its own notices sent in-process)."""
    from registry import services

    f.open_window(world.province, YEAR)
    filing = services.filing_start(actor=world.manager.user, year=YEAR)
    f.add_proofs(filing)
    services.filing_submit(actor=world.manager.user, filing=filing)
    filing.refresh_from_db()
    return filing
