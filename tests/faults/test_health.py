"""/healthz while a dependency is down: Redis stopped or hung (SIGSTOP): HTTP 503 naming redis
within a second, PostgreSQL reported fine, 200 again once Redis is back; PostgreSQL refusing:
503 naming the database at once; PostgreSQL hung: 503 after libpq's shortest connect timeout."""

import json
import os
import socket
import subprocess
import sys

import pytest
from django.test import Client
from django.urls import reverse

from tests.workers import ROOT

from .conftest import timed
from .redis_server import free_port

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("fault", ["stopped", "paused"])
@pytest.mark.parametrize("token", [False, True])
def test_healthz_names_redis_within_a_second(fault, token, fault_redis, settings):
    settings.HEALTHZ_TOKEN = "a-long-random-monitoring-token"
    headers = {"X-Health-Token": settings.HEALTHZ_TOKEN} if token else {}
    client = Client()
    assert client.get(reverse("healthz"), headers=headers).status_code == 200
    if fault == "stopped":
        fault_redis.stop()
    else:
        fault_redis.pause()

    for _ in range(3):  # each probe asks Redis itself (never the fail-fast shortcut)
        answer = timed(client.get, reverse("healthz"), headers=headers)
        print(f"\nFAULT healthz redis {fault} token={token}: {answer.seconds:.3f} s")
        assert answer.seconds < 1, f"{answer.seconds:.2f} s"
        assert answer.value.status_code == 503
        body = answer.value.json()
        assert body["down"] == ["redis"]
        assert body["checks"]["database"]["ok"] is True
        assert "celery" not in body["checks"]  # its broker is that Redis: not asked

    if fault == "stopped":
        fault_redis.start()
    else:
        fault_redis.resume()
    assert client.get(reverse("healthz")).status_code == 200


def _healthz_in_a_process(database_url: str, redis_url: str) -> dict:
    """/healthz answered by a fresh process whose DATABASE_URL is `database_url` (this test
    process keeps its own database connection)."""
    code = (
        "import json, time, django\n"
        "django.setup()\n"
        "from django.test import Client\n"
        "started = time.monotonic()\n"
        "r = Client().get('/healthz', HTTP_HOST='localhost')\n"
        "print(json.dumps({'status': r.status_code, 'seconds': time.monotonic() - started,"
        " 'body': r.json()}))\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_healthz_names_the_database_when_postgresql_refuses(redis_server):
    port = free_port()  # nothing listens there: connection refused, as a stopped PostgreSQL
    answer = _healthz_in_a_process(
        f"postgres://portal:pw@127.0.0.1:{port}/portal", redis_server.url
    )
    print(f"\nFAULT healthz postgresql stopped: {answer['seconds']:.3f} s")
    assert answer["status"] == 503
    assert answer["body"]["down"] == ["database"]
    assert answer["seconds"] < 1


def test_healthz_names_a_hung_postgresql_after_the_connect_timeout(redis_server):
    # A socket that is listened on and never answered: the kernel completes the handshake and
    # nothing replies, as with a hung host. libpq's shortest connect_timeout is 2 s.
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)
        port = hung.getsockname()[1]
        answer = _healthz_in_a_process(
            f"postgres://portal:pw@127.0.0.1:{port}/portal", redis_server.url
        )
    print(f"\nFAULT healthz postgresql hung (new connection): {answer['seconds']:.3f} s")
    assert answer["status"] == 503
    assert answer["body"]["down"] == ["database"]
    assert answer["seconds"] < 2.5
