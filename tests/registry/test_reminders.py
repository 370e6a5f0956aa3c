"""The daily reminder job across a whole filing window, with the clock moved by time-machine.

The 2026 filing has the default window, 1 January to 31 March 2027, so its milestones fall on
1 January (opening), 1 March (30 days before the close), 17, 24, 28 and 30 March."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications import services as notices
from notifications import tasks as notice_tasks
from notifications.models import Notice
from registry import jobs, services, tasks
from registry.models import AnnualFiling, FilingExtension
from tests import factories as f
from training.models import HoursRule

SH = ZoneInfo("Asia/Shanghai")
YEAR = 2026
K = Notice.Kind
NS, HS, RET, DIGEST = (
    K.REMIND_NOT_SUBMITTED,
    K.REMIND_HOURS_SHORT,
    K.REMIND_RETURNED,
    K.REMIND_FIRM_DIGEST,
)
MILESTONES = {
    "open": dt.date(2027, 1, 1),
    "d30": dt.date(2027, 3, 1),
    "d14": dt.date(2027, 3, 17),
    "d7": dt.date(2027, 3, 24),
    "d3": dt.date(2027, 3, 28),
    "d1": dt.date(2027, 3, 30),
}


def at(day: dt.date, hour: int = 9):
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), tzinfo=SH), tick=False)


@pytest.fixture
def cycle(world):
    """A rule of 24 hours for 2026: the manager has 30 (compliant), the other manager 10."""
    HoursRule.objects.create(jurisdiction=world.province, year=YEAR, annual_minimum=24)
    f.study_hours(world.manager, YEAR, 30)
    f.study_hours(world.other_manager, YEAR, 10)
    return world


@pytest.fixture
def daily(django_capture_on_commit_callbacks):
    """`daily(day)` runs the beat's task at 09:00 that day (e-mails sent in-process) and
    returns the (recipient, kind, milestone) of the notices it created."""

    def run(day: dt.date) -> list[tuple]:
        before = set(Notice.objects.values_list("pk", flat=True))
        with at(day), django_capture_on_commit_callbacks(execute=True):
            tasks.run_daily.apply().get()
        return sorted(
            Notice.objects.exclude(pk__in=before).values_list("recipient_id", "kind", "milestone")
        )

    return run


def days(start: dt.date, end: dt.date):
    day = start
    while day <= end:
        yield day
        day += dt.timedelta(days=1)


def test_who_gets_what_on_each_day_of_the_window(cycle, daily):
    m, o = cycle.manager.user_id, cycle.other_manager.user_id
    got = {day: daily(day) for day in days(dt.date(2026, 12, 29), dt.date(2027, 4, 3))}

    for key, day in MILESTONES.items():
        # Both have not submitted; only the other manager is short of hours.
        assert got[day] == sorted([(m, NS, key), (o, NS, key), (o, HS, key)]), day
    # 1 April: the window closed on 31 March; both are abnormal (no filing), their firms told.
    closing = got.pop(dt.date(2027, 4, 1))
    assert sorted(kind for _, kind, _ in closing) == sorted(
        [K.STATUS_ABNORMAL, K.STATUS_ABNORMAL, K.FIRM_ABNORMAL, K.FIRM_ABNORMAL]
    )
    quiet = {day: notices for day, notices in got.items() if day not in MILESTONES.values()}
    # Before the opening, between milestones, on the last day and after the close: nothing.
    assert all(notices == [] for notices in quiet.values()), {d: n for d, n in quiet.items() if n}
    assert dt.date(2027, 3, 31) in quiet and dt.date(2026, 12, 31) in quiet
    # Every notice e-mailed exactly once, to its recipient.
    assert not Notice.objects.exclude(email_state=Notice.EmailState.SENT).exists()
    assert len(mail.outbox) == Notice.objects.count() == 6 * 3 + 4
    assert sum(1 for msg in mail.outbox if msg.to == [cycle.manager.user.email]) == 6 + 1


def test_a_manager_who_submits_stops_getting_reminders_and_the_firm_gets_a_daily_digest(
    cycle, daily
):
    w = cycle
    daily(dt.date(2027, 1, 1))
    with at(dt.date(2027, 1, 10), hour=15):
        filing = services.filing_start(actor=w.manager.user, year=YEAR)
        f.add_proofs(filing)
        services.filing_submit(actor=w.manager.user, filing=filing)
    first = daily(dt.date(2027, 1, 11))
    assert first == [(w.reviewer.pk, DIGEST, "2027-01-11")]
    digest = Notice.objects.get(recipient=w.reviewer, kind=DIGEST)
    assert digest.params["count"] == 1
    assert digest.params["oldest"].startswith("2027-01-10")
    # The reviewer reads Chinese (the default language).
    assert "有 1 份备案待您初审，最早一份于 2027年1月10日 提交" in mail.outbox[-1].body
    assert daily(dt.date(2027, 1, 12)) == [(w.reviewer.pk, DIGEST, "2027-01-12")]
    with at(dt.date(2027, 1, 12), hour=16):
        services.filing_firm_approve(actor=w.reviewer, filing=filing)
    # Forwarded: no more digests; the manager has submitted: no more reminders to him.
    assert daily(dt.date(2027, 1, 13)) == []
    march = daily(MILESTONES["d30"])
    assert {(r, kind) for r, kind, _ in march} == {
        (w.other_manager.user_id, NS),
        (w.other_manager.user_id, HS),
    }


def test_a_returned_filing_is_reminded_at_the_next_milestone_not_before(cycle, daily):
    w = cycle
    with at(dt.date(2027, 3, 2)):
        filing = services.filing_start(actor=w.manager.user, year=YEAR)
        f.add_proofs(filing)
        services.filing_submit(actor=w.manager.user, filing=filing)
        services.filing_firm_return(actor=w.reviewer, filing=filing, reason="合同页缺少盖章")
    # Returned on 2 March, after the 1 March milestone: told at once, not reminded the next day.
    assert [n for n in daily(dt.date(2027, 3, 3)) if n[0] == w.manager.user_id] == []
    mine = [n for n in daily(MILESTONES["d14"]) if n[0] == w.manager.user_id]
    assert mine == [(w.manager.user_id, RET, "d14")]
    reminder = Notice.objects.get(recipient=w.manager.user, kind=RET)
    assert reminder.params["reason"] == "合同页缺少盖章"
    assert reminder.year == filing.year and reminder.link.endswith(f"?year={filing.year}")
    with at(dt.date(2027, 3, 18)):
        services.filing_submit(actor=w.manager.user, filing=filing)
    assert [n for n in daily(MILESTONES["d7"]) if n[0] == w.manager.user_id] == []


def test_after_ten_days_of_downtime_each_person_gets_one_catch_up_reminder(cycle, daily):
    for day in days(dt.date(2027, 1, 1), dt.date(2027, 3, 10)):
        daily(day)
    sent_before = len(mail.outbox)
    # Down from 11 to 20 March: the 17 March milestone (d14) was missed.
    catch_up = daily(dt.date(2027, 3, 21))
    m, o = cycle.manager.user_id, cycle.other_manager.user_id
    assert catch_up == sorted([(m, NS, "d14"), (o, NS, "d14"), (o, HS, "d14")])
    assert len(mail.outbox) == sent_before + 3
    assert daily(dt.date(2027, 3, 22)) == []
    assert daily(dt.date(2027, 3, 24)) == sorted([(m, NS, "d7"), (o, NS, "d7"), (o, HS, "d7")])


def test_after_a_long_downtime_only_the_latest_milestone_is_sent(cycle, daily):
    # Nothing ran from before the opening until 25 March: opening, d30, d14 and d7 are all due.
    assert daily(dt.date(2027, 3, 25)) == sorted(
        [
            (cycle.manager.user_id, NS, "d7"),
            (cycle.other_manager.user_id, NS, "d7"),
            (cycle.other_manager.user_id, HS, "d7"),
        ]
    )


def test_running_the_job_twice_the_same_day_sends_nothing_more(cycle, daily):
    assert len(daily(MILESTONES["d30"])) == 3
    outbox = len(mail.outbox)
    assert daily(MILESTONES["d30"]) == []
    with at(MILESTONES["d30"], hour=18):
        result = jobs.reminders_run(day=MILESTONES["d30"])
    assert sum(result.created.values()) == 0
    assert len(mail.outbox) == outbox == 3


def test_the_hours_reminder_says_how_many_hours_are_still_needed(cycle, daily):
    daily(MILESTONES["open"])
    notice = Notice.objects.get(kind=HS)
    assert notice.recipient == cycle.other_manager.user
    assert float(notice.params["needed"]) == 14
    message = next(m for m in mail.outbox if "hours are short" in m.subject or "学时" in m.subject)
    assert "14" in message.body


def test_emails_are_in_each_recipients_language(cycle, daily):
    cycle.manager.user.language = "en"
    cycle.manager.user.save()
    cycle.other_manager.user.language = "zh-hans"
    cycle.other_manager.user.save()
    daily(MILESTONES["d3"])
    english = [m for m in mail.outbox if m.to == [cycle.manager.user.email]]
    chinese = [m for m in mail.outbox if m.to == [cycle.other_manager.user.email]]
    assert english and "Reminder: submit your 2026 annual filing" in english[0].subject
    assert "in 3 days" in english[0].body
    assert chinese and all("2026" in m.subject for m in chinese)
    assert any("年度登记备案" in m.subject for m in chinese)
    assert any("还差" in m.body or "学时" in m.body for m in chinese)


def test_a_manager_with_an_extension_is_reminded_until_his_own_deadline(cycle, daily):
    FilingExtension.objects.create(
        manager=cycle.manager,
        year=YEAR,
        until=dt.date(2027, 4, 30),
        reason="住院",
        granted_by=cycle.bureau,
    )
    assert (cycle.manager.user_id, NS, "d30") not in daily(MILESTONES["d30"])
    # His own 30 days before 30 April: 31 March.
    assert (cycle.manager.user_id, NS, "d30") in daily(dt.date(2027, 3, 31))
    closing = daily(dt.date(2027, 4, 1))
    assert (cycle.manager.user_id, K.STATUS_ABNORMAL, "close") not in closing
    assert (cycle.other_manager.user_id, K.STATUS_ABNORMAL, "close") in closing
    assert (cycle.manager.user_id, NS, "d1") in daily(dt.date(2027, 4, 29))
    assert (cycle.manager.user_id, K.STATUS_ABNORMAL, "close") in daily(dt.date(2027, 5, 1))


def test_the_job_queries_do_not_grow_with_the_number_of_managers(world):
    HoursRule.objects.create(jurisdiction=world.province, year=YEAR, annual_minimum=24)
    counts = []
    for n in (5, 60):
        f.bulk_managers(n, f"b{n}", firm=world.firm)
        with at(MILESTONES["d30"]), CaptureQueriesContext(connection) as ctx:
            result = jobs.reminders_run(day=MILESTONES["d30"], queue=False)
        counts.append(len(ctx.captured_queries))
        assert result.created[NS] >= n
        Notice.objects.all().delete()
    assert counts[0] == counts[1]


# --- crashes, failures, retries ---------------------------------------------------------------


def test_a_crash_mid_run_leaves_nothing_and_the_next_run_sends_everything_once(
    cycle, daily, monkeypatch
):
    def crash(**kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(jobs, "_remind_firms", crash)
    with at(MILESTONES["d30"]), pytest.raises(RuntimeError):
        jobs.reminders_run(day=MILESTONES["d30"])
    # The run's transaction rolled back: no reminder half-made, no e-mail.
    assert not Notice.objects.exists() and mail.outbox == []
    monkeypatch.undo()
    assert len(daily(MILESTONES["d30"])) == 3
    assert len(mail.outbox) == 3


def test_reminders_committed_but_never_queued_are_sent_by_the_next_run(cycle, daily):
    # The run committed its reminders, then died before queueing the e-mails.
    with at(MILESTONES["d30"]):
        jobs.reminders_run(day=MILESTONES["d30"], queue=False)
    assert Notice.objects.filter(email_state=Notice.EmailState.PENDING).count() == 3
    assert mail.outbox == []
    # The next morning's run finds them pending and sends them, once.
    assert daily(dt.date(2027, 3, 2)) == []
    assert len(mail.outbox) == 3
    assert daily(dt.date(2027, 3, 3)) == [] and len(mail.outbox) == 3


def test_an_email_in_flight_when_its_worker_died_is_not_sent_again(cycle, daily):
    with at(MILESTONES["d30"]):
        jobs.reminders_run(day=MILESTONES["d30"], queue=False)
    in_flight = Notice.objects.first()
    # A worker claimed it at 09:00 and was killed while talking to the mail server: it may
    # have gone out, so it is left for the admin; the others of its chunk are sent.
    Notice.objects.filter(pk=in_flight.pk).update(
        email_state=Notice.EmailState.SENDING,
        claimed_at=dt.datetime(2027, 3, 1, 9, tzinfo=SH),
    )
    daily(dt.date(2027, 3, 2))
    daily(dt.date(2027, 3, 3))
    in_flight.refresh_from_db()
    assert in_flight.email_state == Notice.EmailState.SENDING
    assert len(mail.outbox) == 2
    sent = set(Notice.objects.filter(email_state="sent").values_list("pk", flat=True))
    assert sent == set(Notice.objects.values_list("pk", flat=True)) - {in_flight.pk}


def test_a_claimed_email_is_not_sent_twice(cycle):
    with at(MILESTONES["d30"]):
        jobs.reminders_run(day=MILESTONES["d30"], queue=False)
    ids = list(Notice.objects.values_list("pk", flat=True))
    sent, failed = notices.send_notice_batch(ids)
    assert len(sent) == 3 and not failed
    assert notices.send_notice_batch(ids) == ([], {})
    assert len(mail.outbox) == 3


def test_failed_emails_are_recorded_and_retried_with_back_off(cycle, settings):
    from celery.exceptions import Retry

    settings.EMAIL_BACKEND = "tests.mail.FailingBackend"
    with at(MILESTONES["d30"]):
        jobs.reminders_run(day=MILESTONES["d30"], queue=False)
    ids = sorted(Notice.objects.values_list("pk", flat=True))
    with pytest.raises(Retry) as retry:
        notice_tasks.send_notice_emails.apply(args=[ids], throw=True)
    assert retry.value.when == 60  # the first retry after a minute
    failed = Notice.objects.filter(email_state=Notice.EmailState.FAILED)
    assert failed.count() == 3
    assert all("mail server refused" in n.email_error for n in failed)
    assert {n.attempts for n in failed} == {1}
    assert notices.retry_backoff(3) == 480 and notices.retry_backoff(10) == 3600
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notice_tasks.send_notice_emails.apply(args=[ids]).get() == 3
    assert not Notice.objects.exclude(email_state=Notice.EmailState.SENT).exists()
    assert {n.attempts for n in Notice.objects.all()} == {2}


# --- the command ------------------------------------------------------------------------------


def test_the_command_dry_run_counts_and_changes_nothing(cycle, capsys):
    call_command("run_reminders", "--date", "2027-03-01", "--dry-run")
    out = capsys.readouterr().out
    assert "dry run" in out
    assert "remind_not_submitted" in out and "remind_hours_short" in out
    line = next(line for line in out.splitlines() if "remind_not_submitted" in line)
    assert line.split()[1:] == ["2", "0"]
    assert not Notice.objects.exists() and mail.outbox == []


def test_the_command_creates_and_sends_and_prints_the_counts(cycle, capsys):
    call_command("run_reminders", "--date", "2027-03-01")
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if "_" in line}
    assert rows == {
        "remind_not_submitted": ["2", "2"],
        "remind_hours_short": ["1", "1"],
        "remind_returned": ["0", "0"],
        "remind_firm_digest": ["0", "0"],
        "remind_study_hours": ["0", "0"],  # only in the study year (September to December)
        "status_abnormal": ["0", "0"],
        "firm_abnormal": ["0", "0"],
    }
    assert len(mail.outbox) == 3
    call_command("run_reminders", "--date", "2027-03-01")
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if "_" in line}
    assert set(map(tuple, rows.values())) == {("0", "0")}  # nothing new
    assert len(mail.outbox) == 3


def test_the_command_refuses_a_bad_date(db):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("run_reminders", "--date", "2027-02-30")


def test_the_beat_schedule_runs_the_daily_job_at_nine_in_shanghai(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["registry-daily"]
    assert entry["task"] == tasks.run_daily.name
    assert entry["schedule"].hour == {9} and entry["schedule"].minute == {0}
    assert settings.CELERY_TIMEZONE == "Asia/Shanghai"


def test_draft_filings_count_as_not_submitted(cycle, daily):
    with at(dt.date(2027, 1, 5)):
        services.filing_start(actor=cycle.manager.user, year=YEAR)
    assert AnnualFiling.objects.get().status == AnnualFiling.Status.DRAFT
    assert (cycle.manager.user_id, NS, "d30") in daily(MILESTONES["d30"])


def test_bureau_staff_see_failed_reminders_of_their_jurisdiction_with_the_error(
    cycle, settings, as_user, mfa
):
    settings.EMAIL_BACKEND = "tests.mail.FailingBackend"
    with at(MILESTONES["d30"]):
        jobs.reminders_run(day=MILESTONES["d30"], queue=False)
    notices.send_notice_batch(list(Notice.objects.values_list("pk", flat=True)))
    url = reverse("admin:notifications_notice_changelist") + "?email_state=failed&origin=reminder"
    html = as_user(mfa(cycle.bureau)).get(url).content.decode()
    assert cycle.manager.user.email in html  # 吉首市
    assert cycle.other_manager.user.email not in html  # 凤凰县
    assert "mail server refused the message" in html
    prefecture = as_user(mfa(cycle.prefecture_bureau)).get(url).content.decode()
    assert cycle.other_manager.user.email in prefecture
    assert as_user(cycle.reviewer).get(url).status_code == 302  # not for firms
