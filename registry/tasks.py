"""Celery tasks of the registry: thin wrappers that take ids and call the notification code."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
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
        for pk in pending:
            transaction.on_commit(lambda pk=pk: send_notice_email.delay(pk))
    return len(pending)


@shared_task(
    name="registry.send_notice_email",
    bind=True,
    max_retries=6,
    default_retry_delay=60,
)
def send_notice_email(self, notice_id: int) -> bool:
    """E-mail one notice in its recipient's language. The notice is claimed first (a
    conditional UPDATE), so two workers never send it twice; a failure is recorded and retried
    with back-off."""
    claimed = Notice.objects.filter(
        pk=notice_id, email_state__in=[Notice.EmailState.PENDING, Notice.EmailState.FAILED]
    ).update(email_state=Notice.EmailState.SENDING)
    if not claimed:
        return False
    notice = Notice.objects.select_related("recipient").get(pk=notice_id)
    user = notice.recipient
    with translation.override(user.language or settings.LANGUAGE_CODE):
        context = {
            "title": notice_title(notice),
            "body": notice_body(notice),
            "url": settings.PORTAL_BASE_URL + notice.link
            if notice.link
            else settings.PORTAL_BASE_URL,
        }
        subject = render_to_string("registry/email/notice_subject.txt", context).strip()
        body = render_to_string("registry/email/notice_body.txt", context)
    try:
        send_mail(settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject, body, None, [user.email])
    except Exception as exc:  # noqa: BLE001 (any failure of the mail server: record, retry)
        Notice.objects.filter(pk=notice_id).update(
            email_state=Notice.EmailState.FAILED, email_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise self.retry(exc=exc, countdown=min(3600, 60 * 2**self.request.retries)) from exc
    Notice.objects.filter(pk=notice_id).update(
        email_state=Notice.EmailState.SENT, emailed_at=timezone.now(), email_error=""
    )
    return True
