import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_healthz_reports_database_and_redis_up(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    assert "celery" in body["checks"]  # named, whether or not a worker answers


@pytest.mark.django_db
def test_healthz_answers_503_when_redis_is_unreachable(client, settings):
    # A Redis that does not answer: a closed port on loopback (no mock: the real client fails).
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    # (Changing settings.CACHES makes Django drop its cache connections: the next use reconnects.)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.django_db
def test_healthz_refuses_post(client):
    assert client.post(reverse("healthz")).status_code == 405
