import threading
import time

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse

from portal import health
from tests import factories as f


@pytest.fixture
def no_cached_worker_check():
    """The worker check's answer lives in Redis for 30 s: start each test without one."""
    cache.delete(health.CELERY_CACHE_KEY)
    yield
    cache.delete(health.CELERY_CACHE_KEY)


def _timed_get(client, **headers):
    started = time.monotonic()
    response = client.get(reverse("healthz"), headers=headers)
    return response, time.monotonic() - started


@pytest.mark.django_db
def test_healthz_reports_database_and_redis_up(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    assert "celery" not in body["checks"]  # only for staff or the token, see below


@pytest.mark.django_db
def test_anonymous_healthz_does_not_wait_for_celery(client, no_cached_worker_check):
    # No worker runs in this test: a broadcast would wait its full second for answers.
    for _ in range(5):
        response, took = _timed_get(client)
        assert response.status_code == 200
        assert took < 0.5, f"{took:.2f} s"
        assert "celery" not in response.json()["checks"]


@pytest.mark.django_db
def test_the_token_shows_the_celery_check_and_a_burst_costs_one_broadcast(
    client, settings, no_cached_worker_check
):
    settings.HEALTHZ_TOKEN = "a-long-random-monitoring-token"
    first, took_first = _timed_get(client, **{"X-Health-Token": settings.HEALTHZ_TOKEN})
    assert first.status_code == 200  # the workers do not decide the status
    celery = first.json()["checks"]["celery"]
    assert celery == {"ok": False, "detail": "no worker answered"}
    assert took_first >= 0.9  # the broadcast waited for answers
    # The next ones within 30 s reuse the answer: no broadcast, milliseconds.
    for _ in range(3):
        again, took = _timed_get(client, **{"X-Health-Token": settings.HEALTHZ_TOKEN})
        assert again.json()["checks"]["celery"] == celery
        assert took < 0.5, f"{took:.2f} s"
    # A wrong token is an anonymous probe.
    wrong, _took = _timed_get(client, **{"X-Health-Token": "a-long-random-monitoring-tokem"})
    assert "celery" not in wrong.json()["checks"]


@pytest.mark.django_db
def test_a_simultaneous_burst_with_the_token_costs_one_broadcast(settings, no_cached_worker_check):
    settings.HEALTHZ_TOKEN = "a-long-random-monitoring-token"
    results = []

    def probe():
        try:
            response, took = _timed_get(Client(), **{"X-Health-Token": settings.HEALTHZ_TOKEN})
            results.append((response.json()["checks"]["celery"], took))
        finally:
            connection.close()  # this thread's own connection to the test database

    threads = [threading.Thread(target=probe) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times = sorted(took for _celery, took in results)
    assert len(times) == 4
    assert times[-1] >= 0.9  # the one broadcast waited for answers ...
    assert times[-2] < 0.5, times  # ... the others did not (being checked, or its answer)


@pytest.mark.django_db
def test_staff_or_the_token_may_check_the_workers_and_no_one_else(settings):
    settings.HEALTHZ_TOKEN = ""
    request = RequestFactory().get("/healthz", headers={"X-Health-Token": ""})
    request.user = AnonymousUser()
    assert not health.may_check_workers(request)  # no token configured: never by token
    request.user = f.UserFactory(is_staff=True)
    assert health.may_check_workers(request)
    request.user = f.ManagerProfileFactory().user
    assert not health.may_check_workers(request)
    settings.HEALTHZ_TOKEN = "s3cret-token"
    request = RequestFactory().get("/healthz", headers={"X-Health-Token": "s3cret-token"})
    request.user = AnonymousUser()
    assert health.may_check_workers(request)


@pytest.mark.django_db
def test_healthz_answers_503_when_redis_is_unreachable(client, settings):
    # A Redis that does not answer: a closed port on loopback (no mock: the real client fails).
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.HEALTHZ_TOKEN = "a-long-random-monitoring-token"
    # (Changing settings.CACHES makes Django drop its cache connections: the next use reconnects.)
    response, took = _timed_get(client, **{"X-Health-Token": settings.HEALTHZ_TOKEN})
    assert took < 1.0, f"{took:.2f} s"
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
    assert body["down"] == ["redis"]
    assert "celery" not in body["checks"]  # its broker is that Redis: not asked


@pytest.mark.django_db
def test_the_database_probe_leaves_the_connections_statement_timeout_alone():
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        (before,) = cursor.fetchone()
        assert health.check_database() == (True, "ok")
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == (before,)


@pytest.mark.django_db
def test_healthz_refuses_post(client):
    assert client.post(reverse("healthz")).status_code == 405
