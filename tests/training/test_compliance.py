"""The one compliance computation, on its edges."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import ManagerProfile
from tests import factories as f
from training.models import HoursRule, StudyRecord
from training.selectors import compliance_for, hours_rule_for, with_compliance


@pytest.fixture
def course(world):
    provider = f.ProviderFactory(jurisdiction=world.prefecture)
    from training.models import Course

    return Course.objects.create(
        provider=provider,
        code="C-1",
        title="课程",
        hours=40,
        mode="online",
        category="law",
        start_date=dt.date(2020, 1, 1),
        end_date=dt.date(2030, 1, 1),
    )


def record(manager, on, hours, *, status="verified", assessment="passed", course=None):
    return StudyRecord.objects.create(
        manager=manager,
        course=course,
        external_title="" if course else f"外部课程{on}{hours}",
        completed_on=on,
        hours=Decimal(hours),
        assessment=assessment,
        source="provider",
        status=status,
    )


def test_records_on_31_december_and_1_january_fall_in_their_own_years(world):
    HoursRule.objects.create(jurisdiction=world.province, year=2025, annual_minimum=40)
    HoursRule.objects.create(jurisdiction=world.province, year=2026, annual_minimum=40)
    record(world.manager, dt.date(2025, 12, 31), 30)
    record(world.manager, dt.date(2026, 1, 1), 12)
    c2025 = compliance_for(manager=world.manager, year=2025)
    c2026 = compliance_for(manager=world.manager, year=2026)
    assert c2025.hours_year == Decimal(30)
    assert c2025.hours_needed == Decimal(10)
    assert not c2025.compliant
    assert c2026.hours_year == Decimal(12)
    assert c2026.hours_needed == Decimal(28)


def test_exactly_the_minimum_is_compliant(world):
    HoursRule.objects.create(jurisdiction=world.province, year=2026, annual_minimum=40)
    record(world.manager, dt.date(2026, 3, 1), "39.5")
    record(world.manager, dt.date(2026, 4, 1), "0.5")
    result = compliance_for(manager=world.manager, year=2026)
    assert result.compliant
    assert result.hours_needed == 0


def test_unverified_rejected_and_failed_records_do_not_count(world):
    HoursRule.objects.create(jurisdiction=world.province, year=2026, annual_minimum=40)
    record(world.manager, dt.date(2026, 3, 1), 10)
    record(world.manager, dt.date(2026, 3, 2), 10, status="pending")
    record(world.manager, dt.date(2026, 3, 3), 10, status="rejected")
    record(world.manager, dt.date(2026, 3, 4), 10, assessment="failed")
    result = compliance_for(manager=world.manager, year=2026)
    assert result.hours_year == Decimal(10)
    assert result.hours_needed == Decimal(30)


def test_another_managers_hours_do_not_count(world):
    HoursRule.objects.create(jurisdiction=world.province, year=2026, annual_minimum=10)
    record(world.other_manager, dt.date(2026, 3, 1), 50)
    assert compliance_for(manager=world.manager, year=2026).hours_year == 0


def test_cycle_rule_counts_the_years_of_the_cycle_only(world):
    HoursRule.objects.create(
        jurisdiction=world.province, year=2026, cycle_minimum=120, cycle_years=3
    )
    record(world.manager, dt.date(2023, 12, 31), 50)  # before the cycle 2024–2026
    record(world.manager, dt.date(2024, 1, 1), 40)
    record(world.manager, dt.date(2025, 6, 1), 40)
    record(world.manager, dt.date(2026, 12, 31), 30)
    result = compliance_for(manager=world.manager, year=2026)
    assert result.cycle_start == 2024
    assert result.hours_cycle == Decimal(110)
    assert result.hours_needed == Decimal(10)
    assert result.required_year is None
    assert not result.compliant


def test_rule_with_both_parts_needs_both(world):
    HoursRule.objects.create(
        jurisdiction=world.province, year=2026, annual_minimum=40, cycle_minimum=120, cycle_years=3
    )
    record(world.manager, dt.date(2024, 5, 1), 60)
    record(world.manager, dt.date(2025, 5, 1), 50)
    record(world.manager, dt.date(2026, 5, 1), 20)
    result = compliance_for(manager=world.manager, year=2026)
    assert result.hours_cycle == Decimal(130)  # the cycle is met ...
    assert result.needed_year == Decimal(20)  # ... the year is not
    assert result.hours_needed == Decimal(20)
    assert not result.compliant


def test_county_without_its_own_rule_inherits_the_prefectures_then_the_provinces(world):
    HoursRule.objects.create(jurisdiction=world.province, year=2026, annual_minimum=30)
    assert hours_rule_for(jurisdiction=world.county, year=2026).jurisdiction == world.province
    HoursRule.objects.create(jurisdiction=world.prefecture, year=2026, annual_minimum=40)
    assert hours_rule_for(jurisdiction=world.county, year=2026).jurisdiction == world.prefecture
    HoursRule.objects.create(jurisdiction=world.county, year=2026, annual_minimum=50)
    assert hours_rule_for(jurisdiction=world.county, year=2026).jurisdiction == world.county
    # The other county still inherits the prefecture's rule.
    assert hours_rule_for(jurisdiction=world.other_county, year=2026).annual_minimum == 40
    # A rule of another year does not apply.
    assert hours_rule_for(jurisdiction=world.county, year=2025) is None


def test_rule_lookup_is_one_query(world, django_assert_num_queries):
    HoursRule.objects.create(jurisdiction=world.prefecture, year=2026, annual_minimum=40)
    with django_assert_num_queries(1):
        hours_rule_for(jurisdiction=world.county, year=2026)


def test_without_a_rule_nobody_is_compliant_but_hours_show(world):
    record(world.manager, dt.date(2026, 3, 1), 10)
    result = compliance_for(manager=world.manager, year=2026)
    assert not result.has_rule
    assert not result.compliant
    assert result.hours_year == Decimal(10)


def test_firm_compliance_agrees_with_the_single_computation(world):
    from training.selectors import firm_compliance

    HoursRule.objects.create(
        jurisdiction=world.prefecture,
        year=2026,
        annual_minimum=40,
        cycle_minimum=100,
        cycle_years=2,
    )
    others = [f.ManagerProfileFactory() for _ in range(4)]
    for m in others:
        f.employ(m, world.firm)
    record(others[0], dt.date(2026, 2, 1), 45)
    record(others[0], dt.date(2025, 2, 1), 60)
    record(others[1], dt.date(2026, 2, 1), 45)
    record(others[2], dt.date(2026, 2, 1), 10, status="pending")
    record(others[3], dt.date(2025, 12, 31), 90)
    rows, rule = firm_compliance(firm=world.firm, year=2026)
    assert rule.jurisdiction == world.prefecture
    for row in rows:
        single = compliance_for(manager=row, year=2026)
        assert row.hours_year == single.hours_year, row.real_name
        assert row.hours_cycle == single.hours_cycle
        assert row.hours_needed == single.hours_needed
        assert row.compliant == single.compliant
    assert [r.pk for r in firm_compliance(firm=world.firm, year=2026, status="compliant")[0]] == [
        others[0].pk
    ]


@pytest.mark.parametrize(
    "rule",
    [
        None,
        {"annual_minimum": 24},
        {"cycle_minimum": 72, "cycle_years": 3},
        {"annual_minimum": 24, "cycle_minimum": 60, "cycle_years": 2},
    ],
)
def test_one_managers_figures_are_those_of_the_list_computation(world, rule):
    """compliance_for sums one manager's records and subtracts in Python; with_compliance does
    both in SQL for lists. Same numbers, to the decimal place, with every kind of rule."""
    if rule:
        HoursRule.objects.create(jurisdiction=world.province, year=2026, **rule)
    managers = f.bulk_managers(5, "EQ", firm=world.firm)
    hours = ["0.5", "8", "12.5", "24", "40"]
    for n, manager in enumerate(managers):
        for year in (2024, 2025, 2026):
            if n:  # the first has no record at all
                record(manager, dt.date(year, 3, n), hours[(n + year) % 5])
        record(manager, dt.date(2026, 5, 1), "9", status="pending")  # not counted
    fields = ["hours_year", "hours_cycle", "needed_year", "needed_cycle", "hours_needed"]
    for manager in ManagerProfile.objects.filter(pk__in=[m.pk for m in managers]):
        single = compliance_for(manager=manager, year=2026)
        listed = (
            with_compliance(
                ManagerProfile.objects.filter(pk=manager.pk),
                rule=hours_rule_for(jurisdiction=manager.jurisdiction, year=2026),
                year=2026,
                per_row=manager.pk % 2 == 0,  # both ways of summing
            )
            .values(*fields, "compliant")
            .get()
        )
        assert {k: str(getattr(single, k)) for k in fields} == {k: str(listed[k]) for k in fields}
        assert single.compliant == listed["compliant"]
