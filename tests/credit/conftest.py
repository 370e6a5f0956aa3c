"""Credit-file helpers: decided statuses and approved filings made directly (the closing itself
is tested in tests/registry), so each score can be worked out by hand."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from registry.models import AnnualFiling, ConductRecord, RegistryStatus
from training.models import StudyRecord

SH = ZoneInfo("Asia/Shanghai")
YEAR = 2026
CLOSE = dt.date(2027, 3, 31)
TODAY = dt.date(2027, 6, 1)


def at(day: dt.date, hour: int = 10):
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), tzinfo=SH), tick=False)


@pytest.fixture(autouse=True)
def _today():
    with at(TODAY):
        yield


def decided(manager, year=YEAR, *, reasons=(), closed_on=None, jurisdiction=None):
    """The year's registry status as the closing would have written it."""
    closed_on = closed_on or dt.date(year + 1, 3, 31)
    when = timezone.make_aware(dt.datetime.combine(closed_on + dt.timedelta(days=1), dt.time(9)))
    return RegistryStatus.objects.create(
        manager=manager,
        year=year,
        status="abnormal" if reasons else "normal",
        reasons=list(reasons),
        jurisdiction=jurisdiction or manager.jurisdiction,
        closed_on=closed_on,
        decided_at=when,
        updated_at=when,
    )


def approved(manager, year=YEAR, *, on=dt.date(2027, 2, 1)):
    return AnnualFiling.objects.create(
        manager=manager,
        year=year,
        status=AnnualFiling.Status.APPROVED,
        approved_at=timezone.make_aware(dt.datetime.combine(on, dt.time(15))),
        certificate_code=f"C{manager.pk:05d}{year}",
        round=1,
    )


def record(manager, kind="bad", *, severity="general", start=dt.date(2027, 1, 10), until=None):
    from tests import factories as f

    r = f.conduct_record(manager, kind=kind, start=start, until=until, save=False)
    r.severity = severity
    r.recorded_by = _recorder()
    r.save()
    return r


def _recorder():
    from accounts.models import User
    from tests import factories as f

    return User.objects.filter(email="recorder@bureau.example.cn").first() or f.UserFactory(
        email="recorder@bureau.example.cn"
    )


def failed_assessment(manager, on: dt.date, status=StudyRecord.Status.VERIFIED):
    return StudyRecord.objects.create(
        manager=manager,
        external_title="物业法规考核",
        completed_on=on,
        hours=2,
        assessment=StudyRecord.Assessment.FAILED,
        source=StudyRecord.Source.PROVIDER,
        status=status,
    )


__all__ = ["ConductRecord"]
