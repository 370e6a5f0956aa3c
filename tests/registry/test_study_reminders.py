"""Reminders during the study year: managers short of the year's hours are told on the
configured days (1 September, 1 November, 1 December by default) how many hours they still
need and which courses are still open to them; once per day and person, and not once the hours
are met. Time-travel over a whole year with the beat's daily task."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import translation

from notifications.models import Notice
from notifications.wording import notice_body
from registry import jobs, tasks
from tests import factories as f
from training.models import Course, HoursRule, StudyRecord

SH = ZoneInfo("Asia/Shanghai")
YEAR = 2026
STUDY = Notice.Kind.REMIND_STUDY_HOURS
SEP, NOV, DEC = dt.date(2026, 9, 1), dt.date(2026, 11, 1), dt.date(2026, 12, 1)


def at(day: dt.date, hour: int = 9):
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), tzinfo=SH), tick=False)


def course(provider, code, start, end):
    return Course.objects.create(
        provider=provider,
        code=code,
        title=f"课程{code}",
        hours=8,
        mode=Course.Mode.ONLINE,
        category=Course.Category.LAW,
        start_date=start,
        end_date=end,
    )


@pytest.fixture
def year(world):
    """A rule of 24 hours for 2026: the manager has 30 (compliant), the other manager 10."""
    HoursRule.objects.create(jurisdiction=world.province, year=YEAR, annual_minimum=24)
    f.study_hours(world.manager, YEAR, 30)
    f.study_hours(world.other_manager, YEAR, 10)
    return world


@pytest.fixture
def daily(django_capture_on_commit_callbacks):
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


def test_over_a_whole_year_the_manager_short_of_hours_is_reminded_on_each_date_once(year, daily):
    o = year.other_manager.user_id
    got = {day: daily(day) for day in days(dt.date(2026, 1, 1), dt.date(2026, 12, 31))}

    study = {day: [n for n in got[day] if n[1] == STUDY] for day in got}
    assert {day: notices for day, notices in study.items() if notices} == {
        SEP: [(o, STUDY, "study-09-01")],
        NOV: [(o, STUDY, "study-11-01")],
        DEC: [(o, STUDY, "study-12-01")],
    }
    # The rest of the year's notices are the 2025 filing's (its window in this first quarter).
    others = Notice.objects.exclude(kind=STUDY)
    assert others.exists() and set(others.values_list("year", flat=True)) == {2025}
    # The compliant manager is never told about 2026 hours; each reminder e-mailed once.
    assert not Notice.objects.filter(recipient=year.manager.user, year=YEAR).exists()
    study_mails = [m for m in mail.outbox if m.to == [year.other_manager.user.email]]
    assert Notice.objects.filter(kind=STUDY, email_state="sent").count() == 3
    assert len(mail.outbox) == Notice.objects.count()
    assert len(study_mails) == Notice.objects.filter(recipient=year.other_manager.user).count()


def test_no_reminder_once_the_hours_are_met(year, daily):
    o = year.other_manager.user_id
    assert daily(SEP) == [(o, STUDY, "study-09-01")]
    f.study_hours(year.other_manager, YEAR, 14, on=dt.date(2026, 10, 15))
    assert daily(NOV) == []
    assert daily(DEC) == []


def test_running_the_job_twice_the_same_day_sends_nothing_more(year, daily):
    assert len(daily(SEP)) == 1
    assert daily(SEP) == []
    assert daily(dt.date(2026, 9, 2)) == []
    assert len(mail.outbox) == 1


def test_after_downtime_the_missed_reminder_is_sent_once_within_a_week(year, daily):
    o = year.other_manager.user_id
    # Down from 1 to 5 September: the 6th sends the 1 September reminder, once.
    assert daily(dt.date(2026, 9, 6)) == [(o, STUDY, "study-09-01")]
    assert daily(dt.date(2026, 9, 7)) == []
    # Down for all of November: the 1 November reminder is not sent weeks late.
    assert daily(dt.date(2026, 11, 20)) == []
    assert daily(DEC) == [(o, STUDY, "study-12-01")]


def test_the_days_are_a_setting(year, daily, settings):
    settings.REGISTRY_STUDY_REMINDER_DATES = ["10-15"]
    assert daily(SEP) == []
    assert daily(dt.date(2026, 10, 15)) == [(year.other_manager.user_id, STUDY, "study-10-15")]


def test_the_reminder_says_the_hours_needed_and_names_at_most_three_open_courses(year, daily):
    provider = f.ProviderFactory(jurisdiction=year.prefecture)
    ended = course(provider, "OLD", dt.date(2026, 3, 1), dt.date(2026, 6, 30))
    taken = course(provider, "TAKEN", dt.date(2026, 8, 1), dt.date(2026, 12, 31))
    soon = [
        course(provider, f"N{i}", dt.date(2026, 9, 10 + i), dt.date(2026, 12, 20)) for i in range(4)
    ]
    suspended = f.ProviderFactory(jurisdiction=year.prefecture, status="suspended")
    course(suspended, "SUSP", dt.date(2026, 9, 2), dt.date(2026, 12, 31))
    StudyRecord.objects.create(
        manager=year.other_manager,
        course=taken,
        completed_on=dt.date(2026, 8, 20),
        hours=8,
        assessment="failed",
        source="provider",
        status="verified",
    )
    daily(SEP)

    notice = Notice.objects.get(kind=STUDY)
    assert notice.recipient == year.other_manager.user
    assert notice.year == YEAR
    assert float(notice.params["needed"]) == 14
    # The soonest three open courses; not one that has ended, that he took, or of a provider
    # that is not approved.
    assert notice.params["courses"] == [c.title for c in soon[:3]]
    assert ended.title not in notice.params["courses"]
    with translation.override("en"):
        body = notice_body(notice)
    assert "You still need 14 study hours for 2026" in body
    assert "课程N0; 课程N1; 课程N2" in body
    with translation.override("zh-hans"):
        assert "14" in notice_body(notice) and "课程N0" in notice_body(notice)
    assert mail.outbox and "14" in mail.outbox[0].body


def test_a_manager_who_already_submitted_that_years_filing_is_not_reminded(year, daily):
    from registry.models import AnnualFiling

    AnnualFiling.objects.create(
        manager=year.other_manager,
        year=YEAR,
        jurisdiction=year.other_manager.jurisdiction,
        status=AnnualFiling.Status.AWAITING_FIRM,
    )
    assert daily(SEP) == []


def test_the_milestone_of_a_day(settings):
    dates = ["09-01", "11-01", "12-01"]
    assert jobs.study_milestone_due(dt.date(2026, 8, 31), dates) is None
    assert jobs.study_milestone_due(dt.date(2026, 9, 1), dates) == "study-09-01"
    assert jobs.study_milestone_due(dt.date(2026, 9, 8), dates) == "study-09-01"
    assert jobs.study_milestone_due(dt.date(2026, 9, 9), dates) is None
    assert jobs.study_milestone_due(dt.date(2026, 12, 31), dates) is None
