"""Publishing from a request never blocks it: with no broker listening, `publish` gives up
within the publish timeout and says so (the hung and stopped Redis cases: tests/faults)."""

import socket
import time

import pytest

from core.broker import publish
from portal.celery import app
from tests import factories as f


@pytest.fixture
def no_broker():
    """The Celery app pointed at a port where nothing listens (a real refused connection)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    old_url, old_eager = app.conf.broker_url, app.conf.task_always_eager
    app.conf.broker_url = f"redis://127.0.0.1:{port}/0"
    app.conf.task_always_eager = False
    yield
    app.conf.broker_url, app.conf.task_always_eager = old_url, old_eager


def test_publishing_without_a_broker_gives_up_quickly_and_says_so(no_broker):
    started = time.monotonic()
    assert publish("training.process_provider_report", args=[1]) is False
    assert time.monotonic() - started < 2


@pytest.mark.django_db
def test_a_firm_invitation_answers_at_once_without_a_broker(
    world, as_user, no_broker, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from accounts.models import FirmInvitation, FirmMembership

    admin = f.FirmMembershipFactory(firm=world.firm, role=FirmMembership.Role.ADMIN).user
    client = as_user(admin)
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("accounts:firm_reviewers"), {"email": "new@example.cn", "role": "reviewer"}
        )
    assert response.status_code == 302 and time.monotonic() - started < 2
    assert len(callbacks) == 1  # the publish ran, failed and was logged
    assert FirmInvitation.objects.filter(email="new@example.cn").exists()
