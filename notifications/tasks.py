"""Celery tasks of the notices: thin wrappers that take ids and call the services."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name=services.SEND_TASK, bind=True, max_retries=6)
def send_notice_emails(self, notice_ids: list[int]) -> int:
    """E-mail a chunk of notices; the failed ones are tried again with back-off (1, 2, 4 …
    minutes, at most an hour), then left failed for the sweep and the admin."""
    sent, failed = services.send_notice_batch(notice_ids)
    if failed:
        raise self.retry(
            args=[sorted(failed)], countdown=services.retry_backoff(self.request.retries)
        )
    return len(sent)


@shared_task(name=services.SMS_TASK)
def send_notice_sms(notice_ids: list[int]) -> int:
    """Text a chunk of notices. No retry here: failed ones and those held back by the rate
    limit stay for the sweep (a failed one at most `SMS_MAX_ATTEMPTS` times)."""
    sent, _failed, _later = services.send_notice_sms_batch(notice_ids)
    return len(sent)


@shared_task(name="notifications.sweep")
def sweep() -> int:
    """Beat, every few minutes: publish the e-mails and text messages of notices still pending
    or failed, so a broker outage delays messages and loses none."""
    return services.notices_sweep()
