"""Text messages through a real Celery worker and the real Redis broker: the daily job's
reminders texted by the worker's tasks with SMS_URL=file://…, one line per message, none twice,
even when the job runs twice and the sweep publishes everything again."""

import time
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import ManagerProfile
from notifications import tasks as notice_tasks
from notifications.models import Notice
from registry import tasks
from tests import factories as f
from tests.workers import celery_worker
from training.models import HoursRule

YEAR = 2026
S = Notice.SmsState


@pytest.fixture
def worker_with_sms_file(settings, tmp_path):
    """A worker (two processes) on the test database, its text messages appended to a file."""
    db = connection.settings_dict
    sms_file = tmp_path / "sms.txt"
    env = {
        "DATABASE_URL": (
            f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}"
            f"@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        "EMAIL_URL": "memorymail://",
        "SMS_URL": f"file://{sms_file}",
    }
    # The web side decides which notices want SMS (with the same URL as the worker).
    settings.SMS_URL = env["SMS_URL"]
    with celery_worker(settings.REDIS_URL, env=env, concurrency=2) as queue:
        yield queue, sms_file


def wait_until_settled(deadline_seconds=90):
    deadline = time.monotonic() + deadline_seconds
    while (
        Notice.objects.filter(sms_state__in=[S.PENDING, S.SENDING]).exists()
        and time.monotonic() < deadline
    ):
        time.sleep(0.5)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_reminders_are_texted_once_through_a_real_worker(world, worker_with_sms_file):
    queue, sms_file = worker_with_sms_file
    HoursRule.objects.create(jurisdiction=world.province, year=YEAR, annual_minimum=24)
    f.study_hours(world.manager, YEAR, 30)
    f.study_hours(world.other_manager, YEAR, 10)
    f.bulk_managers(10, "w", firm=world.firm)
    # Verified phones: the two managers; the other one has opted out; the bulk ones unverified.
    ManagerProfile.objects.filter(pk=world.manager.pk).update(
        phone="13907430001", phone_verified_at=timezone.now()
    )
    ManagerProfile.objects.filter(pk=world.other_manager.pk).update(
        phone="13907430002", phone_verified_at=timezone.now(), sms_opt_out=True
    )
    expected = 1  # the manager: not submitted (d30); he has his hours

    first = tasks.run_daily.apply_async(args=["2027-03-01"], queue=queue)
    second = tasks.run_daily.apply_async(args=["2027-03-01"], queue=queue)
    first.get(timeout=90), second.get(timeout=90)
    wait_until_settled()

    lines = sms_file.read_text().splitlines()
    assert len(lines) == expected
    message_id, phone, text = lines[0].split("\t")
    assert phone == "13907430001" and str(YEAR) in text and message_id
    assert Notice.objects.filter(sms_state=S.SENT).count() == expected
    assert Notice.objects.filter(recipient=world.other_manager.user).exists()
    assert not Notice.objects.filter(recipient=world.other_manager.user).exclude(
        sms_state=S.NOT_WANTED
    )

    # The sweep (by the worker) and a third run of the day: nothing is texted again.
    notice_tasks.sweep.apply_async(queue=queue).get(timeout=60)
    tasks.run_daily.apply_async(args=["2027-03-01"], queue=queue).get(timeout=60)
    time.sleep(1)
    wait_until_settled()
    assert len(sms_file.read_text().splitlines()) == expected
