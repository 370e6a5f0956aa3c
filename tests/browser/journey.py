"""A small but full portal for the page-by-page browser tests (accessibility, phone width):
every main page of each role has something to show. Built on the `world` of tests/conftest.py:

- the manager: a course record and a pending record of his own in this filing year (locked:
  his filing was submitted and the firm forwarded it), a pending record of the year before
  (editable), notices, a public bad conduct record and last year's abnormal status;
- his firm: a second manager's filing waiting for the firm, a manager asking to join;
- the bureau: the forwarded filing to decide;
- the provider: its course in the catalogue."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from tests import factories as f


@dataclass
class Journey:
    world: object
    year: int
    filing: object  # the manager's, awaiting the bureau
    waiting: object  # another manager's, awaiting the firm
    locked_record: object  # the manager's own pending record of `year`, locked by the filing
    editable_record: object  # his pending record of the year before


def build(world) -> Journey:
    from accounts.models import Employment
    from registry import services
    from registry.models import RegistryStatus
    from registry.selectors import current_filing_year
    from training.models import Course, HoursRule, ProviderStaff, StudyRecord

    manager = world.manager
    year = current_filing_year(manager=manager, today=timezone.localdate())
    f.open_window(world.province, year)
    HoursRule.objects.create(jurisdiction=world.province, year=year, annual_minimum=24)
    provider = ProviderStaff.objects.get(user=world.provider_user).provider
    course = Course.objects.create(
        provider=provider,
        code=f"XX{year}-001",
        title="《物业管理条例》与民法典物业服务合同专题",
        hours=Decimal("8"),
        mode=Course.Mode.BLENDED,
        category=Course.Category.LAW,
        start_date=dt.date(year, 1, 1),
        end_date=dt.date(year, 12, 31),
    )
    StudyRecord.objects.create(
        manager=manager,
        course=course,
        completed_on=dt.date(year, 4, 10),
        hours=Decimal("8"),
        assessment=StudyRecord.Assessment.PASSED,
        score=Decimal("87"),
        source=StudyRecord.Source.PROVIDER,
        status=StudyRecord.Status.VERIFIED,
    )
    f.study_hours(manager, year, 10)

    def own_record(on: dt.date, title: str):
        return StudyRecord.objects.create(
            manager=manager,
            external_title=title,
            external_provider="湘西州物业管理协会培训中心",
            completed_on=on,
            hours=Decimal("6"),
            assessment=StudyRecord.Assessment.PASSED,
            score=Decimal("91"),
            source=StudyRecord.Source.SELF,
            status=StudyRecord.Status.PENDING,
        )

    locked_record = own_record(dt.date(year, 5, 20), "住宅专项维修资金管理政策解读")
    editable_record = own_record(dt.date(year - 1, 11, 27), "城市更新中的物业服务创新案例")

    filing = services.filing_start(actor=manager.user, year=year)
    f.add_proofs(filing)
    filing = services.filing_submit(actor=manager.user, filing=filing)
    filing = services.filing_firm_approve(actor=world.reviewer, filing=filing)

    colleague = f.ManagerProfileFactory(real_name="田小梅")
    f.employ(colleague, world.firm)
    waiting = services.filing_start(actor=colleague.user, year=year)
    f.add_proofs(waiting)
    waiting = services.filing_submit(actor=colleague.user, filing=waiting)

    applicant = f.ManagerProfileFactory(real_name="龙春燕")
    f.EmploymentFactory(
        manager=applicant, firm=world.firm, status=Employment.Status.REQUESTED, start_date=None
    )

    f.conduct_record(manager, by=world.bureau)
    now = timezone.now()
    RegistryStatus.objects.create(
        manager=manager,
        jurisdiction=world.county,
        year=year - 1,
        status=RegistryStatus.Status.ABNORMAL,
        reasons=["not_filed"],
        closed_on=dt.date(year, 3, 31),
        decided_at=now,
        updated_at=now,
    )
    return Journey(
        world=world,
        year=year,
        filing=filing,
        waiting=waiting,
        locked_record=locked_record,
        editable_record=editable_record,
    )
