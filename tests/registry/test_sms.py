"""Reminders and returns also go by SMS to a manager with a verified phone who has not opted
out; each text message exactly once (claimed like the e-mail), at most SMS_RATE_PER_MINUTE a
minute (the rest left to the sweep), its state in the admin."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from accounts.models import ManagerProfile
from notifications import services as notices
from notifications import tasks as notice_tasks
from notifications.models import SMS_KINDS, Notice
from notifications.services import NewNotice
from tests.registry import test_reminders as reminders

MILESTONES = reminders.MILESTONES
days = reminders.days
# The reminder tests' fixtures: a 2026 cycle, and the daily job run in-process on a given day.
cycle = reminders.cycle
daily = reminders.daily

S = Notice.SmsState


@pytest.fixture
def sms_file(settings, tmp_path):
    path = tmp_path / "sms.txt"
    settings.SMS_URL = f"file://{path}"
    return path


def lines(path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text().splitlines()] if path.exists() else []


def verify(profile, *, opt_out=False):
    ManagerProfile.objects.filter(pk=profile.pk).update(
        phone_verified_at=timezone.now(), sms_opt_out=opt_out
    )


def clear_rate_limits():
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=cache.make_key("rl:*")))
    if keys:
        client.delete(*keys)


def create(recipient_id, kind, milestone="m1", capture=None):
    new = NewNotice(
        recipient_id=recipient_id,
        kind=kind,
        link="/filings/",
        params={"year": 2026, "name": "彭建国", "reason": "照片模糊"},
        year=2026,
        milestone=milestone,
    )
    with capture(execute=True):
        [pk] = notices.notices_create([new])
    return Notice.objects.get(pk=pk)


def test_reminders_go_by_sms_only_to_a_verified_phone(cycle, daily, sms_file):
    verify(cycle.manager)
    daily(MILESTONES["d30"])
    mine = Notice.objects.filter(recipient=cycle.manager.user)
    assert mine.exists() and set(mine.values_list("sms_state", flat=True)) == {S.SENT}
    others = Notice.objects.exclude(recipient=cycle.manager.user)
    assert set(others.values_list("sms_state", flat=True)) == {S.NOT_WANTED}
    sent = lines(sms_file)
    assert [line[1] for line in sent] == [cycle.manager.phone] * mine.count()
    assert "2026" in sent[0][2]


def test_an_opted_out_manager_gets_no_sms(cycle, daily, sms_file):
    verify(cycle.manager, opt_out=True)
    daily(MILESTONES["d30"])
    assert not Notice.objects.exclude(sms_state=S.NOT_WANTED).exists()
    assert lines(sms_file) == []


def test_over_the_whole_window_each_reminder_is_texted_once(cycle, daily, sms_file):
    ManagerProfile.objects.filter(pk=cycle.other_manager.pk).update(phone="13907430002")
    verify(cycle.manager)
    verify(cycle.other_manager)
    for day in days(dt.date(2026, 12, 25), dt.date(2027, 4, 5)):
        daily(day)
    wanted = Notice.objects.filter(kind__startswith="remind_").exclude(sms_state=S.NOT_WANTED)
    assert wanted.count() > 4 and set(wanted.values_list("sms_state", flat=True)) == {S.SENT}
    assert len(lines(sms_file)) == wanted.count()
    # one line per milestone and person: no duplicates
    texts = [(line[1], line[2]) for line in lines(sms_file)]
    assert len(set(texts)) == len(texts)


def test_only_reminders_and_returns_go_by_sms(world, sms_file, django_capture_on_commit_callbacks):
    verify(world.manager)
    uid = world.manager.user_id
    c = django_capture_on_commit_callbacks
    assert create(uid, Notice.Kind.FILING_RETURNED, capture=c).sms_state == S.SENT
    assert create(uid, Notice.Kind.REMIND_RETURNED, capture=c).sms_state == S.SENT
    for kind in ["filing_submitted", "filing_approved", "status_abnormal", "filing_forwarded"]:
        assert create(uid, kind, capture=c).sms_state == S.NOT_WANTED
    assert len(lines(sms_file)) == 2


def test_no_sms_when_sms_is_off(world, settings, django_capture_on_commit_callbacks):
    settings.SMS_URL = ""
    verify(world.manager)
    notice = create(
        world.manager.user_id, "filing_returned", capture=django_capture_on_commit_callbacks
    )
    assert notice.sms_state == S.NOT_WANTED


def test_each_sms_is_sent_once_whatever_runs_again(
    world, sms_file, django_capture_on_commit_callbacks
):
    verify(world.manager)
    notice = create(
        world.manager.user_id, "filing_returned", capture=django_capture_on_commit_callbacks
    )
    notice_tasks.send_notice_sms.apply(args=[[notice.pk]])
    notice_tasks.send_notice_sms.apply(args=[[notice.pk]])
    notices.notices_sweep(now=timezone.now() + dt.timedelta(minutes=10))
    notice.refresh_from_db()
    assert notice.sms_state == S.SENT and notice.sms_attempts == 1
    assert len(lines(sms_file)) == 1


def test_an_sms_in_flight_when_its_worker_died_is_not_sent_again(
    world, sms_file, django_capture_on_commit_callbacks
):
    verify(world.manager)
    with django_capture_on_commit_callbacks(execute=False):
        [pk] = notices.notices_create(
            [NewNotice(world.manager.user_id, "filing_returned", "/", {}, 2026, "x")]
        )
    Notice.objects.filter(pk=pk).update(sms_state=S.SENDING)
    notices.notices_sweep(now=timezone.now() + dt.timedelta(minutes=10))
    notice_tasks.send_notice_sms.apply(args=[[pk]])
    assert lines(sms_file) == []


def test_beyond_the_rate_limit_sms_wait_for_the_sweep(
    world, settings, sms_file, django_capture_on_commit_callbacks
):
    settings.SMS_RATE_PER_MINUTE = 2
    verify(world.manager)
    with django_capture_on_commit_callbacks(execute=True):
        ids = notices.notices_create(
            [
                NewNotice(world.manager.user_id, "filing_returned", "/", {}, 2026, f"e{i}")
                for i in range(3)
            ]
        )
    states = sorted(Notice.objects.filter(pk__in=ids).values_list("sms_state", flat=True))
    assert states == [S.PENDING, S.SENT, S.SENT]
    assert len(lines(sms_file)) == 2
    clear_rate_limits()  # the next minute
    notices.notices_sweep(now=timezone.now() + dt.timedelta(minutes=3))
    assert set(Notice.objects.values_list("sms_state", flat=True)) == {S.SENT}
    assert len(lines(sms_file)) == 3


def test_a_failed_sms_is_recorded_and_retried_by_the_sweep(
    world, settings, sms_file, django_capture_on_commit_callbacks
):
    verify(world.manager)
    settings.SMS_URL = "http://127.0.0.1:9/send"  # the discard port: nothing answers
    settings.SMS_TIMEOUT = 1
    notice = create(
        world.manager.user_id, "filing_returned", capture=django_capture_on_commit_callbacks
    )
    assert notice.sms_state == S.FAILED and "unreachable" in notice.sms_error
    settings.SMS_URL = f"file://{sms_file}"
    notices.notices_sweep()
    notice.refresh_from_db()
    assert notice.sms_state == S.SENT and notice.sms_attempts == 2 and notice.sms_error == ""
    assert len(lines(sms_file)) == 1


def test_a_failed_sms_is_given_up_after_five_attempts(world, sms_file):
    verify(world.manager)
    notice = Notice.objects.create(
        recipient=world.manager.user,
        kind="filing_returned",
        milestone="x",
        sms_state=S.FAILED,
        sms_attempts=5,
    )
    assert notice.pk not in notices.unsent_sms_ids(now=timezone.now())


def test_opting_out_after_the_notice_was_written_stops_its_sms(
    world, sms_file, django_capture_on_commit_callbacks
):
    verify(world.manager)
    with django_capture_on_commit_callbacks(execute=False):
        [pk] = notices.notices_create(
            [NewNotice(world.manager.user_id, "filing_returned", "/", {}, 2026, "x")]
        )
    verify(world.manager, opt_out=True)
    notice_tasks.send_notice_sms.apply(args=[[pk]])
    assert Notice.objects.get(pk=pk).sms_state == S.NOT_WANTED
    assert lines(sms_file) == []


def test_bureau_staff_see_the_sms_state_in_the_admin(
    cycle, daily, sms_file, as_user, mfa, settings
):
    verify(cycle.manager)
    daily(MILESTONES["d30"])
    url = reverse("admin:notifications_notice_changelist") + "?sms_state=sent"
    html = as_user(mfa(cycle.bureau)).get(url).content.decode()
    assert cycle.manager.user.email in html
    none = as_user(mfa(cycle.bureau)).get(
        reverse("admin:notifications_notice_changelist") + "?sms_state=failed"
    )
    assert cycle.manager.user.email not in none.content.decode()


def test_over_a_year_who_is_texted_when_and_once(cycle, daily, sms_file):
    """From the study-year reminders (1 September, 1 November, 1 December) through the filing
    window: the manager short of hours (verified) gets each reminder by SMS once; the compliant
    manager (opted out) gets none; status notices after the close are not texted."""
    other = cycle.other_manager
    ManagerProfile.objects.filter(pk=other.pk).update(phone="13907430002")
    verify(other)
    verify(cycle.manager, opt_out=True)
    texted = {}
    for day in days(dt.date(2026, 8, 25), dt.date(2027, 4, 5)):
        before = len(lines(sms_file))
        daily(day)
        if len(lines(sms_file)) > before:
            texted[day] = len(lines(sms_file)) - before
    assert {dt.date(2026, 9, 1), dt.date(2026, 11, 1), dt.date(2026, 12, 1)} <= set(texted)
    assert all(day.month in (9, 11, 12, 1, 3) for day in texted)
    sent = Notice.objects.filter(sms_state=S.SENT)
    assert set(sent.values_list("recipient_id", flat=True)) == {other.user_id}
    assert set(sent.values_list("kind", flat=True)) <= {k.value for k in SMS_KINDS}
    assert Notice.objects.filter(kind="status_abnormal", recipient=other.user).exists()
    assert not Notice.objects.filter(kind__startswith="status_").exclude(sms_state=S.NOT_WANTED)
    assert len(lines(sms_file)) == sent.count() == sum(texted.values())
    assert {line[1] for line in lines(sms_file)} == {"13907430002"}
