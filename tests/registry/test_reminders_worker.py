"""The daily job through a real Celery worker and the real Redis broker: two beats at once for
the same day, the e-mails sent by the worker's chunked tasks, each exactly once."""

import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from notifications.models import Notice
from registry import tasks
from tests import factories as f
from tests.workers import celery_worker
from training.models import HoursRule

YEAR = 2026


@pytest.fixture
def worker_for_test_db(settings, tmp_path):
    """A worker (two processes) on the test database, its e-mails written to files."""
    db = connection.settings_dict
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = {
        "DATABASE_URL": (
            f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}"
            f"@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        "EMAIL_URL": f"filemail:///{mail_dir}",  # four slashes: an absolute path
    }
    with celery_worker(settings.REDIS_URL, env=env, concurrency=2) as queue:
        yield queue, mail_dir


def messages_in(mail_dir: Path) -> list[str]:
    """The To: lines of every message the file backend wrote."""
    return [
        line
        for path in mail_dir.iterdir()
        for line in path.read_text().splitlines()
        if line.startswith("To: ")
    ]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_two_beats_at_once_through_a_real_worker_send_each_reminder_once(world, worker_for_test_db):
    queue, mail_dir = worker_for_test_db
    HoursRule.objects.create(jurisdiction=world.province, year=YEAR, annual_minimum=24)
    f.study_hours(world.manager, YEAR, 30)
    f.study_hours(world.other_manager, YEAR, 10)
    f.bulk_managers(30, "w", firm=world.firm)
    expected = 32 + 31  # everyone has not submitted (d30); all but the manager short of hours

    first = tasks.run_daily.apply_async(args=["2027-03-01"], queue=queue)
    second = tasks.run_daily.apply_async(args=["2027-03-01"], queue=queue)
    results = [first.get(timeout=90), second.get(timeout=90)]
    created = [sum(r["reminders"].values()) for r in results]
    assert sorted(created) == [0, expected]  # one run made them all, the other none

    deadline = time.monotonic() + 90
    while (
        Notice.objects.exclude(email_state=Notice.EmailState.SENT).exists()
        and time.monotonic() < deadline
    ):
        time.sleep(0.5)
    assert Notice.objects.filter(email_state=Notice.EmailState.SENT).count() == expected
    recipients = messages_in(mail_dir)
    assert len(recipients) == expected
    assert recipients.count(f"To: {world.other_manager.user.email}") == 2  # NS and HS

    # A third run the same day (a retry of the beat): nothing more.
    assert (
        sum(
            tasks.run_daily.apply_async(args=["2027-03-01"], queue=queue)
            .get(timeout=60)["reminders"]
            .values()
        )
        == 0
    )
    time.sleep(1)
    assert len(messages_in(mail_dir)) == expected
