"""Celery tasks of the registry: thin wrappers that take ids and call the notification code."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from .models import Notice, ReviewEvent
from .notices import notice_body, notice_title


def _admin_link(filing_id: int) -> str:
    return reverse("admin:registry_annualfiling_change", args=[filing_id])


def _recipients(event: ReviewEvent) -> list[tuple[int, str, str]]:
    """(user id, notice kind, link) for everyone an event concerns: the next actor and the
    manager."""
    from . import selectors

    filing = event.filing
    manager_user = filing.manager.user_id
    own = reverse("registry:my_filing") + f"?year={filing.year}"
    firm_link = reverse("registry:firm_filing_detail", args=[filing.pk])
    reviewers = (
        list(selectors.firm_reviewers(firm_id=filing.firm_id).values_list("pk", flat=True))
        if filing.firm_id
        else []
    )
    K, A = Notice.Kind, ReviewEvent.Action
    out: list[tuple[int, str, str]] = []
    if event.action == A.SUBMIT:
        out.append((manager_user, K.FILING_SUBMITTED, own))
        out += [(pk, K.FILING_TO_REVIEW, firm_link) for pk in reviewers]
    elif event.action == A.WITHDRAW:
        out += [(pk, K.FILING_WITHDRAWN, reverse("registry:firm_queue")) for pk in reviewers]
    elif event.action == A.FIRM_APPROVE:
        out.append((manager_user, K.FILING_FORWARDED, own))
        bureau = selectors.bureau_reviewers(jurisdiction=filing.jurisdiction)
        out += [
            (pk, K.FILING_TO_REVIEW, _admin_link(filing.pk))
            for pk in bureau.values_list("pk", flat=True)
        ]
    elif event.action in (A.FIRM_RETURN, A.BUREAU_RETURN):
        out.append((manager_user, K.FILING_RETURNED, own))
        if event.action == A.BUREAU_RETURN:
            out += [(pk, K.FILING_RETURNED, firm_link) for pk in reviewers]
    elif event.action == A.BUREAU_APPROVE:
        out.append((manager_user, K.FILING_APPROVED, own))
        out += [(pk, K.FILING_APPROVED, firm_link) for pk in reviewers]
    return out


@shared_task(name="registry.notify_review_event")
def notify_review_event(event_id: int) -> int:
    """Create the notices of a review event and queue their e-mails. Safe to run twice: a
    notice is unique per (recipient, event, kind), and only new ones are e-mailed."""
    event = (
        ReviewEvent.objects.select_related(
            "filing", "filing__manager", "filing__firm", "filing__jurisdiction"
        )
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        return 0
    filing = event.filing
    params = {
        "year": filing.year,
        "name": filing.manager.real_name,
        "firm": filing.firm.name if filing.firm_id else "",
        "reason": event.reason,
    }
    rows = [
        Notice(
            recipient_id=user_id, kind=kind, link=link, params=params, filing=filing, event=event
        )
        for user_id, kind, link in _recipients(event)
    ]
    with transaction.atomic():
        Notice.objects.bulk_create(rows, ignore_conflicts=True)
        pending = list(
            Notice.objects.filter(event=event, email_state=Notice.EmailState.PENDING).values_list(
                "pk", flat=True
            )
        )
        queue_emails(pending)
    return len(pending)


def send_notice_batch(notice_ids: list[int]) -> tuple[list[int], dict[int, str]]:
    """E-mail notices, each in its recipient's language, over one connection to the mail server.

    Each notice is claimed just before its message goes out (a conditional UPDATE: pending or
    failed → sending), so two workers never send the same one, and marked sent just after. A
    worker killed between the two leaves that one notice `sending`: it is not sent again (it may
    have gone out); the admin shows it. A failure is recorded with its error.
    Returns (sent ids, {failed id: error})."""
    todo = list(
        Notice.objects.select_related("recipient")
        .filter(
            pk__in=notice_ids,
            email_state__in=[Notice.EmailState.PENDING, Notice.EmailState.FAILED],
        )
        .order_by("pk")
    )
    sent: list[int] = []
    failed: dict[int, str] = {}
    if not todo:
        return sent, failed
    try:
        connection = get_connection()
        connection.open()
    except Exception as exc:  # noqa: BLE001 (the mail server is down: nothing claimed)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        Notice.objects.filter(pk__in=[n.pk for n in todo]).update(
            email_state=Notice.EmailState.FAILED, email_error=error
        )
        return sent, {n.pk: error for n in todo}
    try:
        for notice in todo:
            claimed = Notice.objects.filter(
                pk=notice.pk,
                email_state__in=[Notice.EmailState.PENDING, Notice.EmailState.FAILED],
            ).update(
                email_state=Notice.EmailState.SENDING,
                claimed_at=timezone.now(),
                attempts=F("attempts") + 1,
            )
            if not claimed:
                continue  # another worker has it
            try:
                connection.send_messages([_message(notice, connection)])
            except Exception as exc:  # noqa: BLE001 (any failure of the mail server: retry)
                error = f"{type(exc).__name__}: {exc}"[:2000]
                Notice.objects.filter(pk=notice.pk).update(
                    email_state=Notice.EmailState.FAILED, email_error=error
                )
                failed[notice.pk] = error
            else:
                Notice.objects.filter(pk=notice.pk).update(
                    email_state=Notice.EmailState.SENT, emailed_at=timezone.now(), email_error=""
                )
                sent.append(notice.pk)
    finally:
        connection.close()
    return sent, failed


def _message(notice: Notice, connection) -> EmailMessage:
    user = notice.recipient
    with translation.override(user.language or settings.LANGUAGE_CODE):
        context = {
            "title": notice_title(notice),
            "body": notice_body(notice),
            "url": settings.PORTAL_BASE_URL + (notice.link or "/"),
        }
        subject = render_to_string("registry/email/notice_subject.txt", context).strip()
        body = render_to_string("registry/email/notice_body.txt", context)
    return EmailMessage(
        settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject,
        body,
        None,
        [user.email],
        connection=connection,
    )


#: E-mails per sending task.
CHUNK = 500


def queue_emails(notice_ids: list[int]) -> None:
    """Queue the e-mails of these notices, in chunks, once the open transaction commits."""
    ids = sorted(set(notice_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        transaction.on_commit(lambda chunk=chunk: send_notice_emails.delay(chunk))


def _backoff(retries: int) -> int:
    return min(3600, 60 * 2**retries)


@shared_task(name="registry.send_notice_emails", bind=True, max_retries=6)
def send_notice_emails(self, notice_ids: list[int]) -> int:
    """E-mail a chunk of notices; the failed ones are tried again with back-off (1, 2, 4 …
    minutes, at most an hour), then left failed for the daily job and the admin."""
    sent, failed = send_notice_batch(notice_ids)
    if failed:
        raise self.retry(args=[sorted(failed)], countdown=_backoff(self.request.retries))
    return len(sent)


@shared_task(name="registry.run_daily")
def run_daily(day: str | None = None) -> dict:
    """The daily job of Celery beat (09:00 Asia/Shanghai): close the windows whose deadline
    has passed, then send the reminders due today."""
    from .jobs import daily_run

    today = dt.date.fromisoformat(day) if day else timezone.localdate()
    closed, reminded = daily_run(day=today)
    return {
        "day": today.isoformat(),
        "statuses": dict(closed.decided),
        "reminders": dict(reminded.created),
    }


@shared_task(name="registry.close_windows")
def close_windows(day: str | None = None, year: int | None = None) -> dict:
    """Close the windows whose deadline has passed by `day` (default today), by hand."""
    from .jobs import windows_close

    today = dt.date.fromisoformat(day) if day else timezone.localdate()
    return dict(windows_close(day=today, year=year).decided)
