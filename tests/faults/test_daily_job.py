"""The daily job while Redis (the broker) is stopped or hung: the reminders are created and
committed, their e-mails wait (pending), the caller gets no error; once Redis is back the sweep
has a real worker send each e-mail once, and another run the same day adds nothing."""

import datetime as dt
import io

import pytest
from django.core.management import call_command

from notifications.models import Notice
from notifications.tasks import sweep
from registry import jobs
from tests import factories as f

from .conftest import backdate_notices, timed, wait_until, worker_on

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

#: 30 days before the default window of the 2026 filing closes (31 March 2027).
DAY = dt.date(2027, 3, 1)


def created(result) -> int:
    _closed, reminded = result
    return sum(reminded.created.values())


@pytest.mark.parametrize("fault", ["stopped", "paused"])
def test_daily_job_during_a_redis_outage_creates_the_reminders_and_sends_them_later_once(
    fault, world, fault_redis, smtp_sink
):
    f.bulk_managers(30, "d", firm=world.firm)
    expected = 32  # everyone registered has not submitted; no hours rule, no firm digest
    if fault == "stopped":
        fault_redis.stop()
    else:
        fault_redis.pause()

    run = timed(jobs.daily_run, day=DAY)  # raises nothing

    print(f"\nFAULT daily job redis {fault}: {run.seconds:.3f} s")
    assert created(run.value) == expected
    assert run.seconds < 5, f"{run.seconds:.2f} s"
    notices = Notice.objects.filter(kind=Notice.Kind.REMIND_NOT_SUBMITTED)
    assert notices.count() == expected  # committed
    assert set(notices.values_list("email_state", flat=True)) == {Notice.EmailState.PENDING}
    # A second run the same day, still during the outage: nothing new.
    assert created(jobs.daily_run(day=DAY)) == 0

    if fault == "stopped":
        fault_redis.start()
    else:
        fault_redis.resume()  # what was written to the hung socket may now reach Redis
    backdate_notices()
    with worker_on(fault_redis, smtp_sink):
        sweep.delay().get(timeout=30)
        assert wait_until(
            lambda: not notices.exclude(email_state=Notice.EmailState.SENT).exists(), timeout=30
        )
        # The next morning's run for the same day (a retried beat): nothing new, nothing resent.
        assert created(jobs.daily_run(day=DAY)) == 0
        assert sweep.delay().get(timeout=30) == 0
    counts = smtp_sink.counts()
    assert len(counts) == expected
    assert set(counts.values()) == {1}


def test_run_reminders_by_hand_during_a_redis_outage_leaves_its_failures_to_the_sweep(
    world, fault_redis, smtp_sink, settings
):
    """`manage.py run_reminders` sends from its own process; the mail server refuses too, and
    the retry it would queue cannot reach Redis: it says so and ends normally."""
    f.bulk_managers(8, "h", firm=world.firm)
    settings.EMAIL_BACKEND = "tests.mail.FailingBackend"
    fault_redis.pause()
    out = io.StringIO()

    run = timed(call_command, "run_reminders", date=DAY.isoformat(), stdout=out)

    assert run.seconds < 5, f"{run.seconds:.2f} s"
    assert "the sweep will send them" in out.getvalue()
    notices = Notice.objects.filter(kind=Notice.Kind.REMIND_NOT_SUBMITTED)
    assert notices.count() == 10
    assert set(notices.values_list("email_state", flat=True)) == {Notice.EmailState.FAILED}

    fault_redis.resume()
    with worker_on(fault_redis, smtp_sink):  # its mail server answers
        sweep.delay().get(timeout=30)
        assert wait_until(
            lambda: not notices.exclude(email_state=Notice.EmailState.SENT).exists(), timeout=30
        )
    assert sorted(smtp_sink.counts().values()) == [1] * 10
