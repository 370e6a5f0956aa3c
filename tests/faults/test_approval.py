"""A firm reviewer approves a filing while Redis (the broker and the cache) is stopped or hung:
the answer comes at the normal speed, the approval and its notices are committed, and once
Redis is back the sweep has each e-mail sent exactly once, by a real worker."""

import pytest
from django.urls import reverse

from notifications.models import Notice
from notifications.tasks import sweep
from registry.models import AnnualFiling

from .conftest import backdate_notices, timed, wait_until, worker_on

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def approve(client, filing):
    return client.post(reverse("registry:firm_filing_approve", args=[filing.pk]))


@pytest.mark.parametrize("fault", ["stopped", "paused"])
def test_approval_with_redis_down_answers_at_once_and_sends_each_email_once_later(
    fault, world, submitted_filing, fault_redis, smtp_sink, as_user
):
    client = as_user(world.reviewer)
    before = set(Notice.objects.values_list("pk", flat=True))
    if fault == "stopped":
        fault_redis.stop()
    else:
        fault_redis.pause()

    answer = timed(approve, client, submitted_filing)

    print(f"\nFAULT approve redis {fault}: {answer.seconds:.3f} s")
    assert answer.value.status_code == 302, answer.value.status_code
    assert answer.seconds < 2, f"{answer.seconds:.2f} s"
    submitted_filing.refresh_from_db()
    assert submitted_filing.status == AnnualFiling.Status.AWAITING_BUREAU
    new = Notice.objects.exclude(pk__in=before)
    # The manager and the bureau staff of the county are told; nothing is sent yet.
    recipients = set(new.values_list("recipient_id", flat=True))
    assert recipients == {world.manager.user_id, world.bureau.pk}
    assert set(new.values_list("email_state", flat=True)) == {Notice.EmailState.PENDING}

    # Redis comes back (empty, when it was stopped); a worker starts; the sweep's beat comes.
    if fault == "stopped":
        fault_redis.start()
    else:
        fault_redis.resume()
    backdate_notices()
    with worker_on(fault_redis, smtp_sink):
        assert sweep.delay().get(timeout=30) >= len(recipients)
        assert wait_until(
            lambda: not new.exclude(email_state=Notice.EmailState.SENT).exists(), timeout=30
        )
        # A second beat finds nothing to send.
        assert sweep.delay().get(timeout=30) == 0
    counts = smtp_sink.counts()
    assert counts[world.manager.user.email] == 1
    assert counts[world.bureau.email] == 1
    assert sum(counts.values()) == 2
