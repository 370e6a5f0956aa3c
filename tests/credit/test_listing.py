"""The key-supervision list: both automatic rules, listing and delisting by bureau staff, who is
told."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from core.errors import DomainError
from credit import services
from credit.models import CreditPolicy, SupervisionEntry
from credit.scoring import scores_recompute
from notifications.models import Notice
from registry.models import RegistryStatus
from training.models import StudyRecord

from .conftest import TODAY, decided, failed_assessment

K = Notice.Kind


def entries(manager):
    return list(SupervisionEntry.objects.filter(manager=manager))


def test_two_abnormal_years_in_a_row_list_the_manager_for_a_year(world):
    decided(world.manager, 2025, reasons=["not_filed"])
    decided(world.manager, 2026, reasons=["hours_short"])
    scores_recompute()
    [entry] = entries(world.manager)
    assert entry.cause == SupervisionEntry.Cause.ABNORMAL_TWICE
    assert (entry.starts_on, entry.ends_on) == (TODAY, TODAY + dt.timedelta(days=364))
    assert entry.trigger == "abnormal-2026"
    assert entry.jurisdiction == world.county
    assert entry.listed_by is None


def test_abnormal_years_not_in_a_row_do_not_list(world):
    decided(world.manager, 2024, reasons=["not_filed"])
    decided(world.manager, 2025)
    decided(world.manager, 2026, reasons=["not_filed"])
    scores_recompute()
    assert entries(world.manager) == []


def test_a_trigger_older_than_the_period_lists_no_one(world):
    # 2023 and 2024 abnormal: the later closed on 2025-03-31, more than 365 days ago.
    decided(world.manager, 2023, reasons=["not_filed"])
    decided(world.manager, 2024, reasons=["not_filed"])
    scores_recompute()
    assert entries(world.manager) == []


def test_second_failed_assessment_within_two_years_lists(world):
    failed_assessment(world.manager, dt.date(2025, 7, 1))
    second = failed_assessment(world.manager, dt.date(2027, 5, 1))  # 669 days later
    scores_recompute()
    [entry] = entries(world.manager)
    assert entry.cause == SupervisionEntry.Cause.ASSESSMENT_TWICE
    assert entry.trigger == f"assessment-{second.pk}"


def test_failures_more_than_two_years_apart_do_not_list(world):
    failed_assessment(world.manager, dt.date(2025, 4, 30))
    failed_assessment(world.manager, dt.date(2027, 5, 1))  # 731 days later
    scores_recompute()
    assert entries(world.manager) == []


def test_one_failure_or_an_unverified_one_does_not_list(world):
    failed_assessment(world.manager, dt.date(2027, 1, 1))
    failed_assessment(world.manager, dt.date(2027, 5, 1), status="pending")
    scores_recompute()
    assert entries(world.manager) == []


def test_the_window_and_period_come_from_the_policy(world):
    CreditPolicy.objects.create(
        jurisdiction=world.prefecture, assessment_window_days=100, supervision_days=30
    )
    failed_assessment(world.manager, dt.date(2027, 1, 1))
    failed_assessment(world.manager, dt.date(2027, 5, 1))  # 120 days: outside
    failed_assessment(world.other_manager, dt.date(2027, 5, 1))
    failed_assessment(world.other_manager, dt.date(2027, 5, 20))
    scores_recompute()
    assert entries(world.manager) == []
    [entry] = entries(world.other_manager)
    assert entry.ends_on == TODAY + dt.timedelta(days=29)


def test_a_trigger_lists_once_however_often_the_run(world):
    decided(world.manager, 2025, reasons=["not_filed"])
    decided(world.manager, 2026, reasons=["not_filed"])
    scores_recompute()
    scores_recompute()
    assert len(entries(world.manager)) == 1
    assert Notice.objects.filter(kind=K.SUPERVISION_LISTED).count() == 1


def test_manager_firm_and_bureau_are_told(world):
    decided(world.manager, 2025, reasons=["not_filed"])
    decided(world.manager, 2026, reasons=["not_filed"])
    scores_recompute()
    told = set(Notice.objects.values_list("recipient_id", "kind"))
    assert (world.manager.user_id, K.SUPERVISION_LISTED) in told
    assert (world.reviewer.pk, K.FIRM_SUPERVISION) in told
    assert (world.bureau.pk, K.BUREAU_SUPERVISION) in told
    assert (world.prefecture_bureau.pk, K.BUREAU_SUPERVISION) in told
    assert (world.other_reviewer.pk, K.FIRM_SUPERVISION) not in told
    assert (world.other_bureau.pk, K.BUREAU_SUPERVISION) not in told


def test_bureau_lists_and_delists_with_reasons_and_history(world):
    entry = services.supervision_list(
        actor=world.bureau,
        manager=world.manager,
        reason="多次投诉",
        public_reason="服务投诉",
        days=90,
    )
    assert (entry.listed_by, entry.cause, entry.ends_on) == (
        world.bureau,
        "manual",
        TODAY + dt.timedelta(days=89),
    )
    assert Notice.objects.filter(recipient=world.reviewer, kind=K.FIRM_SUPERVISION).exists()
    assert Notice.objects.filter(recipient=world.manager.user, kind=K.SUPERVISION_LISTED).exists()
    with pytest.raises(DomainError):
        services.supervision_list(actor=world.bureau, manager=world.manager, reason="again")
    services.supervision_delist(actor=world.prefecture_bureau, entry=entry, reason="已整改")
    services.supervision_delist(actor=world.bureau, entry=entry, reason="twice: harmless")
    entry.refresh_from_db()
    assert (entry.ended_by, entry.end_reason, entry.end_cause) == (
        world.prefecture_bureau,
        "已整改",
        "delisted",
    )
    assert SupervisionEntry.objects.count() == 1
    assert (
        Notice.objects.filter(recipient=world.manager.user, kind=K.SUPERVISION_ENDED).count() == 1
    )
    # His firm's reviewers are told too (once), another firm's are not.
    ended = Notice.objects.filter(kind=K.FIRM_SUPERVISION_ENDED)
    assert list(ended.values_list("recipient_id", "params")) == [(world.reviewer.pk, {"count": 1})]


def test_listing_needs_a_reason_and_the_right_bureau(world):
    with pytest.raises(DomainError):
        services.supervision_list(actor=world.bureau, manager=world.manager, reason=" ")
    with pytest.raises(PermissionDenied):
        services.supervision_list(actor=world.other_bureau, manager=world.manager, reason="x")
    with pytest.raises(PermissionDenied):
        services.supervision_list(actor=world.reviewer, manager=world.manager, reason="x")
    entry = services.supervision_list(actor=world.bureau, manager=world.manager, reason="x")
    with pytest.raises(PermissionDenied):
        services.supervision_delist(actor=world.other_bureau, entry=entry, reason="x")


def test_an_entry_whose_cause_is_gone_leaves_the_list(world):
    decided(world.manager, 2025, reasons=["not_filed"])
    later = decided(world.manager, 2026, reasons=["not_filed"])
    second = failed_assessment(world.other_manager, dt.date(2027, 5, 1))
    failed_assessment(world.other_manager, dt.date(2027, 1, 1))
    scores_recompute()
    assert SupervisionEntry.objects.filter(ended_at__isnull=True).count() == 2
    # A late approval decided 2026 normal; the second failure was rejected after all.
    RegistryStatus.objects.filter(pk=later.pk).update(status="normal", reasons=[])
    StudyRecord.objects.filter(pk=second.pk).update(status="rejected")
    scores_recompute()
    assert set(SupervisionEntry.objects.values_list("end_cause", flat=True)) == {"rule_gone"}
    assert Notice.objects.filter(recipient=world.manager.user, kind=K.SUPERVISION_ENDED).exists()
    # Each firm's reviewers are told of their own manager: one each, counted.
    ended = Notice.objects.filter(kind=K.FIRM_SUPERVISION_ENDED)
    assert sorted(ended.values_list("recipient_id", "params")) == sorted(
        [(world.reviewer.pk, {"count": 1}), (world.other_reviewer.pk, {"count": 1})]
    )
    scores_recompute()  # harmless again
    assert Notice.objects.filter(kind=K.FIRM_SUPERVISION_ENDED).count() == 2
    assert SupervisionEntry.objects.count() == 2


def test_a_failed_assessment_is_told_once(world):
    failed = failed_assessment(world.manager, dt.date(2027, 5, 20))
    old = failed_assessment(world.other_manager, dt.date(2027, 1, 5))
    StudyRecord.objects.filter(pk=old.pk).update(created_at=dt.datetime(2027, 1, 6, tzinfo=dt.UTC))
    scores_recompute()
    scores_recompute()
    [notice] = Notice.objects.filter(kind=K.ASSESSMENT_FAILED)
    assert (notice.recipient_id, notice.milestone, notice.year) == (
        world.manager.user_id,
        f"af-{failed.pk}",
        2027,
    )
    assert notice.params["course"] == "物业法规考核"
