"""A worker killed (SIGKILL) while it sends the e-mails of a reminder run: no e-mail goes out
twice; the one notice it had claimed stays `sending` and is not sent again (it may have gone
out: README, "What can still go wrong"); the next sweep has a new worker send the rest."""

import datetime as dt
import signal

import pytest

from notifications.models import Notice
from notifications.tasks import sweep
from registry import jobs
from tests import factories as f

from .conftest import backdate_notices, start_worker, wait_until, worker_on
from .smtp_sink import SMTPSink

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DAY = dt.date(2027, 3, 1)


@pytest.fixture
def slow_mail_server():
    # 100 ms a message while the first worker sends: it needs about 5 s for the run, time
    # enough to kill it halfway; the test sets the delay to 0 once it is dead.
    with SMTPSink(delay=0.1) as sink:
        yield sink


def test_a_worker_killed_while_sending_sends_nothing_twice_and_the_sweep_sends_the_rest(
    world, fault_redis, slow_mail_server
):
    sink = slow_mail_server
    f.bulk_managers(48, "k", firm=world.firm)
    expected = 50
    worker = start_worker(fault_redis, sink)
    try:
        _closed, reminded = jobs.daily_run(day=DAY)
        assert sum(reminded.created.values()) == expected
        assert wait_until(lambda: sum(sink.counts().values()) >= 10, timeout=30)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        sink.delay = 0
    finally:
        if worker.poll() is None:
            worker.kill()
    notices = Notice.objects.filter(kind=Notice.Kind.REMIND_NOT_SUBMITTED)
    states = dict.fromkeys(Notice.EmailState.values, 0)
    for state in notices.values_list("email_state", flat=True):
        states[state] += 1
    print(f"\nFAULT worker killed: {states}")
    assert states[Notice.EmailState.SENT] >= 10
    assert states[Notice.EmailState.SENDING] <= 1  # at most the one it was sending
    assert states[Notice.EmailState.PENDING] >= 1  # the rest of the chunk, never started
    left_sending = set(
        notices.filter(email_state=Notice.EmailState.SENDING).values_list(
            "recipient__email", flat=True
        )
    )

    backdate_notices()
    with worker_on(fault_redis, sink):
        assert sweep.delay().get(timeout=30) == states[Notice.EmailState.PENDING]
        assert wait_until(
            lambda: not notices.filter(email_state=Notice.EmailState.PENDING).exists(),
            timeout=30,
        )
    assert notices.filter(email_state=Notice.EmailState.SENT).count() == expected - len(
        left_sending
    )
    assert (
        set(
            notices.filter(email_state=Notice.EmailState.SENDING).values_list(
                "recipient__email", flat=True
            )
        )
        == left_sending
    )  # not sent again
    counts = sink.counts()
    assert max(counts.values()) == 1  # nobody got an e-mail twice
    sent_to = set(
        notices.filter(email_state=Notice.EmailState.SENT).values_list(
            "recipient__email", flat=True
        )
    )
    assert sent_to <= set(counts)  # every `sent` one went out ...
    assert set(counts) - sent_to <= left_sending  # ... and only the claimed one may have too
