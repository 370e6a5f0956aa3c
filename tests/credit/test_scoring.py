"""The score and grade against hand-worked cases (default policy unless said otherwise): base 80 =
profile 20 + filing on time 30 + hours met 30; deductions −10 hours short, −5 filing late or
missing, −5 failed assessment; good +10 each up to +40; bad −5/−10/−20."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Employment
from credit.models import CreditPolicy, CreditScore, DeductionWaiver, Objection, ScoreLine
from credit.scoring import scores_recompute
from tests import factories as f

from .conftest import TODAY, YEAR, approved, decided, failed_assessment, record

Rule = ScoreLine.Rule


def score_of(manager, year=YEAR) -> CreditScore:
    return CreditScore.objects.get(manager=manager, year=year)


def lines_of(manager, year=YEAR) -> dict:
    out: dict = {}
    for line in score_of(manager, year).lines.all():
        out.setdefault(line.rule, []).append(line.points)
    return out


@pytest.fixture
def perfect(world):
    """Registered, employed, filing approved before the close, hours met: 80."""
    decided(world.manager)
    approved(world.manager)
    return world.manager


def test_full_base_part_is_80_and_grade_aa(world, perfect):
    scores_recompute()
    s = score_of(perfect)
    assert (s.score, s.grade, s.has_bad_record, s.latest) == (80, "AA", False, True)
    assert lines_of(perfect) == {
        Rule.BASE_PROFILE: [20],
        Rule.BASE_FILING: [30],
        Rule.BASE_HOURS: [30],
    }
    line = score_of(perfect).lines.get(rule=Rule.BASE_HOURS)
    assert (line.effective_from, line.effective_until) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 31),
    )


@pytest.mark.parametrize(
    ("good_points", "score", "grade"),
    [(5, 85, "AAA"), (4, 84, "AA"), (10, 90, "AAA")],
)
def test_aaa_from_85(world, perfect, good_points, score, grade):
    CreditPolicy.objects.create(jurisdiction=world.province, good_points=good_points)
    record(perfect, "good")
    scores_recompute()
    assert (score_of(perfect).score, score_of(perfect).grade) == (score, grade)


@pytest.mark.parametrize(
    ("severity", "score", "grade"),
    [
        ("general", 70, "A"),  # 80 − 10: A from 70, a bad record does not matter at 60+
        ("serious", 60, "B"),  # 80 − 20: B from 60
        ("minor", 75, "A"),
    ],
)
def test_bad_records_by_severity_and_the_70_and_60_boundaries(
    world, perfect, severity, score, grade
):
    record(perfect, "bad", severity=severity)
    scores_recompute()
    s = score_of(perfect)
    assert (s.score, s.grade, s.has_bad_record) == (score, grade, True)


def test_79_is_a_and_69_is_b(world, perfect):
    policy = CreditPolicy.objects.create(jurisdiction=world.county, base_profile=19)
    scores_recompute()
    assert (score_of(perfect).score, score_of(perfect).grade) == (79, "A")
    policy.base_profile = 9
    policy.save()
    scores_recompute()
    assert (score_of(perfect).score, score_of(perfect).grade) == (69, "B")


def test_below_60_without_a_bad_record_is_b_with_one_is_c(world):
    # Hours short and no filing: 20 − 5 − 10 = 5 … B without a bad record.
    decided(world.manager, reasons=["not_filed", "hours_short"])
    scores_recompute()
    s = score_of(world.manager)
    assert (s.score, s.grade) == (5, "B")
    assert lines_of(world.manager) == {
        Rule.BASE_PROFILE: [20],
        Rule.FILING_LATE: [-5],
        Rule.HOURS_SHORT: [-10],
    }
    record(world.manager, "bad", severity="minor")
    scores_recompute()
    s = score_of(world.manager)
    assert (s.score, s.grade) == (0, "C")  # never below 0


def test_59_with_bad_record_is_c(world, perfect):
    CreditPolicy.objects.create(jurisdiction=world.county, bad_serious=21)
    record(perfect, "bad", severity="serious")
    scores_recompute()
    assert (score_of(perfect).score, score_of(perfect).grade) == (59, "C")


def test_good_records_count_up_to_40(world, perfect):
    for i in range(5):
        record(perfect, "good", start=dt.date(2027, 1, 1 + i))
    scores_recompute()
    assert sorted(lines_of(perfect)[Rule.GOOD_RECORD]) == [10, 10, 10, 10]
    assert score_of(perfect).score == 120


def test_a_filing_approved_after_the_close_is_late(world):
    decided(world.manager)
    approved(world.manager, on=dt.date(2027, 4, 2))
    scores_recompute()
    assert lines_of(world.manager)[Rule.FILING_LATE] == [-5]
    assert score_of(world.manager).score == 20 - 5 + 30


def test_approved_on_the_last_day_is_on_time(world):
    decided(world.manager)
    approved(world.manager, on=dt.date(2027, 3, 31))
    scores_recompute()
    assert Rule.BASE_FILING in lines_of(world.manager)


def test_profile_points_need_a_current_employment(world, perfect):
    Employment.objects.filter(manager=perfect).update(status=Employment.Status.ENDED)
    scores_recompute()
    assert Rule.BASE_PROFILE not in lines_of(perfect)
    assert score_of(perfect).score == 60


def test_a_record_without_an_end_counts_365_days(world, perfect):
    # 2026-06-02 + 364 days = 2027-06-01 (today): still in force; a day earlier: no longer.
    inside = record(perfect, "bad", start=dt.date(2026, 6, 2))
    record(perfect, "bad", start=dt.date(2026, 6, 1))
    scores_recompute()
    bad = score_of(perfect).lines.filter(rule=Rule.BAD_RECORD)
    assert [line.conduct_record_id for line in bad] == [inside.pk]
    assert bad[0].effective_until == dt.date(2027, 6, 1)


def test_a_record_with_an_end_counts_until_it(world, perfect):
    record(perfect, "bad", start=dt.date(2026, 1, 1), until=dt.date(2027, 5, 31))
    record(perfect, "bad", start=dt.date(2026, 1, 1), until=dt.date(2028, 1, 1))
    scores_recompute()
    assert lines_of(perfect)[Rule.BAD_RECORD] == [-10]


def test_record_days_come_from_the_policy(world, perfect):
    CreditPolicy.objects.create(jurisdiction=world.prefecture, record_days=30)
    record(perfect, "bad", start=dt.date(2027, 5, 1))  # ends 2027-05-30
    scores_recompute()
    assert Rule.BAD_RECORD not in lines_of(perfect)


def test_voided_and_repaired_records_do_not_count(world, perfect):
    from django.utils import timezone

    voided = record(perfect, "bad")
    voided.voided_at = timezone.now()
    voided.save()
    repaired = record(perfect, "bad")
    repaired.repaired_on = TODAY
    repaired.save()
    scores_recompute()
    assert Rule.BAD_RECORD not in lines_of(perfect)


def test_failed_assessment_is_written_and_deducted(world, perfect):
    failed = failed_assessment(perfect, dt.date(2027, 5, 1))
    failed_assessment(perfect, dt.date(2027, 5, 2), status="rejected")
    scores_recompute(listing=False)
    line = score_of(perfect).lines.get(rule=Rule.ASSESSMENT_FAILED)
    assert (line.points, line.study_record_id) == (-5, failed.pk)
    assert score_of(perfect).score == 75


def test_earlier_years_count_records_on_the_day_before_the_next_close(world):
    decided(world.manager, 2025)
    decided(world.manager, 2026)
    # In force in 2026 only: counts for 2025's score (its as_of: 2027-03-30), not for today's.
    record(world.manager, "bad", start=dt.date(2026, 4, 1), until=dt.date(2027, 4, 30))
    scores_recompute(listing=False)
    old, new = score_of(world.manager, 2025), score_of(world.manager, 2026)
    assert (old.as_of, old.latest, new.as_of, new.latest) == (
        dt.date(2027, 3, 30),
        False,
        TODAY,
        True,
    )
    assert Rule.BAD_RECORD in lines_of(world.manager, 2025)
    assert Rule.BAD_RECORD not in lines_of(world.manager, 2026)


def test_a_waived_deduction_counts_as_met(world):
    decided(world.manager, reasons=["hours_short"])
    approved(world.manager)
    objection = Objection.objects.create(
        manager=world.manager,
        target="deduction",
        year=YEAR,
        deduction="hours_short",
        target_key="x",
        reason="r",
        jurisdiction=world.county,
        submitted_at="2027-05-01T00:00Z",
        due_on=TODAY,
        status="upheld",
        decided_at="2027-05-02T00:00Z",
    )
    scores_recompute()
    assert score_of(world.manager).score == 20 + 30 - 10
    DeductionWaiver.objects.create(
        manager=world.manager, year=YEAR, rule="hours_short", objection=objection
    )
    scores_recompute()
    assert score_of(world.manager).score == 80


def test_a_nearer_policy_wins(world, perfect):
    CreditPolicy.objects.create(jurisdiction=world.province, base_hours=10)
    CreditPolicy.objects.create(jurisdiction=world.county, base_hours=20)
    scores_recompute()
    assert score_of(perfect).score == 70
    assert score_of(perfect).jurisdiction == world.county


def test_recompute_of_one_manager_leaves_the_others(world, perfect):
    decided(world.other_manager)
    scores_recompute()
    record(perfect, "bad")
    record(world.other_manager, "bad")
    scores_recompute(manager_ids=[perfect.pk])
    assert score_of(perfect).score == 70
    # Not recomputed: still 20 − 5 (no filing) + 30, without the new bad record.
    assert score_of(world.other_manager).score == 45


def test_running_twice_changes_nothing(world, perfect):
    record(perfect, "good")
    scores_recompute()
    first = list(ScoreLine.objects.values_list("rule", "points"))
    scores_recompute()
    assert sorted(ScoreLine.objects.values_list("rule", "points")) == sorted(first)
    assert CreditScore.objects.count() == 1


def test_queries_do_not_grow_with_the_managers(world):
    def run():
        with CaptureQueriesContext(connection) as ctx:
            scores_recompute()
        return len(ctx)

    managers = f.bulk_managers(3, "q", firm=world.firm)
    for m in managers:
        decided(m, reasons=["hours_short"])
        decided(m, 2025, reasons=["not_filed"])
    few = run()
    managers = f.bulk_managers(40, "r", firm=world.firm)
    for m in managers:
        decided(m, reasons=["hours_short"])
        decided(m, 2025, reasons=["not_filed"])
        record(m, "bad")
    assert run() <= few + 0


def test_a_conduct_record_entered_in_the_registry_recomputes_after_the_commit(
    world, perfect, django_capture_on_commit_callbacks
):
    from registry import services as registry_services

    scores_recompute()
    bad = f.conduct_record(perfect, kind="bad", start=dt.date(2027, 1, 1), save=False)
    with django_capture_on_commit_callbacks(execute=True):
        registry_services.conduct_record_save(actor=world.bureau, record=bad)
    assert score_of(perfect).score == 70
