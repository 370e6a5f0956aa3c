"""Each transition notifies the next actor and the manager, in the portal and by e-mail in the
recipient's language. The notices are written with the transition (an outbox); the e-mails go
after the commit, once."""

import pytest
from django.core import mail
from django.urls import reverse

from notifications import services as notices
from notifications import tasks as notice_tasks
from notifications.models import Notice
from registry import services
from registry.models import ReviewEvent


def kinds(user):
    return sorted(Notice.objects.filter(recipient=user).values_list("kind", flat=True))


def test_submission_notifies_the_manager_and_the_firms_reviewers(submitted, filing_world):
    w = filing_world
    assert kinds(w.manager.user) == ["filing_submitted"]
    assert kinds(w.reviewer) == ["filing_to_review"]
    assert kinds(w.other_reviewer) == [] and kinds(w.bureau) == []
    assert {m.to[0] for m in mail.outbox} == {w.manager.user.email, w.reviewer.email}
    assert Notice.objects.filter(email_state="sent").count() == 2


def test_forwarding_notifies_the_county_bureau_not_the_province(forwarded, filing_world):
    w = filing_world
    assert kinds(w.bureau) == ["filing_to_review"]
    assert kinds(w.prefecture_bureau) == [] and kinds(w.other_bureau) == []
    assert "filing_forwarded" in kinds(w.manager.user)


def test_a_return_tells_the_manager_the_reason(
    submitted, filing_world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.filing_firm_return(
            actor=filing_world.reviewer, filing=submitted, reason="照片模糊"
        )
    notice = Notice.objects.get(recipient=filing_world.manager.user, kind="filing_returned")
    assert notice.params["reason"] == "照片模糊"
    assert "照片模糊" in mail.outbox[-1].body


def test_nothing_is_sent_before_the_commit(draft, filing_world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.filing_submit(actor=filing_world.manager.user, filing=draft)
    # The notices are part of the transition (written in its transaction); no e-mail yet.
    assert Notice.objects.filter(email_state="pending").count() == 2 and not mail.outbox
    assert len(callbacks) == 1


def test_email_is_in_the_recipients_language(
    draft, filing_world, django_capture_on_commit_callbacks
):
    filing_world.reviewer.language = "en"
    filing_world.reviewer.save()
    filing_world.manager.user.language = "zh-hans"
    filing_world.manager.user.save()
    with django_capture_on_commit_callbacks(execute=True):
        services.filing_submit(actor=filing_world.manager.user, filing=draft)
    by_to = {m.to[0]: m for m in mail.outbox}
    assert "awaits your review" in by_to[filing_world.reviewer.email].subject
    assert "已提交" in by_to[filing_world.manager.user.email].subject


def test_sending_again_and_the_sweep_notify_nobody_twice(submitted, filing_world):
    event = ReviewEvent.objects.get(filing=submitted, action="submit")
    sent = len(mail.outbox)
    ids = list(Notice.objects.filter(milestone=f"event-{event.pk}").values_list("pk", flat=True))
    notice_tasks.send_notice_emails.apply(args=[ids])
    notices.notices_sweep()
    assert Notice.objects.filter(milestone=f"event-{event.pk}").count() == 2
    assert len(mail.outbox) == sent


def test_a_failed_send_is_recorded_and_retried_once_it_works(
    draft, filing_world, settings, django_capture_on_commit_callbacks
):
    from celery.exceptions import Retry

    settings.EMAIL_BACKEND = "tests.mail.FailingBackend"
    with pytest.raises(Retry), django_capture_on_commit_callbacks(execute=True):
        # The callbacks run when the block ends; in eager mode the retry propagates.
        services.filing_submit(actor=filing_world.manager.user, filing=draft)
    failed = Notice.objects.filter(email_state="failed")
    assert failed.exists()
    assert "mail server refused" in failed.first().email_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    for notice in Notice.objects.exclude(email_state="sent"):
        notice_tasks.send_notice_emails.apply(args=[[notice.pk]])
    assert not Notice.objects.exclude(email_state="sent").exists()
    assert len({m.to[0] for m in mail.outbox}) == 2


def test_a_claimed_notice_is_not_sent_again(submitted):
    notice = Notice.objects.first()
    count = len(mail.outbox)
    assert notice_tasks.send_notice_emails.apply(args=[[notice.pk]]).get() == 0  # nothing sent
    assert len(mail.outbox) == count


def test_unread_count_in_the_navigation_and_marking_read_is_a_post(
    submitted, filing_world, as_user
):
    client = as_user(filing_world.reviewer)
    page = client.get(reverse("registry:firm_queue")).content.decode()
    assert 'class="badge rounded-pill' in page
    listing = client.get(reverse("notifications:notice_list")).content.decode()
    assert filing_world.manager.real_name in listing
    unread = Notice.objects.filter(recipient=filing_world.reviewer, read_at__isnull=True)
    assert unread.exists()  # a GET changes nothing
    assert client.get(reverse("notifications:notice_mark_read")).status_code == 405
    client.post(reverse("notifications:notice_mark_read"), {"ids": f"{unread.first().pk}"})
    assert not unread.exists()
    page = client.get(reverse("registry:firm_queue")).content.decode()
    assert 'class="badge rounded-pill' not in page


def test_notices_of_others_are_not_listed(submitted, filing_world, as_user):
    html = (
        as_user(filing_world.other_reviewer)
        .get(reverse("notifications:notice_list"))
        .content.decode()
    )
    assert filing_world.manager.real_name not in html


@pytest.mark.parametrize(
    "language,expected", [("en", "awaits your review"), ("zh-hans", "待您审核")]
)
def test_the_notice_list_reads_in_the_viewers_language(
    submitted, filing_world, as_user, language, expected
):
    client = as_user(filing_world.reviewer)
    client.cookies["django_language"] = language
    assert expected in client.get(reverse("notifications:notice_list")).content.decode()
