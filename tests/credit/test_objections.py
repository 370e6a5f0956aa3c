"""Objections (异议) and credit repair (信用修复): deadlines in working days, corrections with the
history kept, locks, notices, scoping."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from core.errors import DomainError
from credit import services
from credit.models import CreditPolicy, CreditScore, Objection, RepairRequest, SupervisionEntry
from credit.scoring import scores_recompute
from credit.workdays import add_working_days
from notifications.models import Notice
from registry.models import ConductRecord, CreditEntry, RegistryStatus
from tests import factories as f

from .conftest import TODAY, YEAR, approved, at, decided, record

K = Notice.Kind


def test_working_days_skip_weekends():
    friday = dt.date(2027, 6, 4)
    assert add_working_days(friday, 1) == dt.date(2027, 6, 7)  # Monday
    assert add_working_days(friday, 5) == dt.date(2027, 6, 11)
    assert add_working_days(friday, 15) == dt.date(2027, 6, 25)
    assert add_working_days(dt.date(2027, 6, 5), 1) == dt.date(2027, 6, 7)  # from a Saturday


def object_to(world, **kwargs):
    return services.objection_submit(
        actor=world.manager.user, reason=kwargs.pop("reason", "证据见附件"), **kwargs
    )


def test_objection_to_a_status_is_due_in_working_days_and_the_bureau_is_told(world):
    status = decided(world.manager, reasons=["hours_short"])
    CreditPolicy.objects.create(jurisdiction=world.prefecture, decision_working_days=5)
    with at(dt.date(2027, 6, 4)):  # a Friday
        objection = object_to(world, target="status", pk=status.pk, evidence=f.upload())
    assert objection.due_on == dt.date(2027, 6, 11)
    assert objection.jurisdiction == world.county
    assert objection.evidence_name == "证件.png"
    assert Notice.objects.filter(recipient=world.bureau, kind=K.OBJECTION_SUBMITTED).exists()
    assert not Notice.objects.filter(recipient=world.other_bureau).exists()


def test_one_objection_per_target_waits_at_a_time(world):
    status = decided(world.manager, reasons=["hours_short"])
    object_to(world, target="status", pk=status.pk)
    with pytest.raises(DomainError):
        object_to(world, target="status", pk=status.pk)


def test_a_manager_cannot_object_to_someone_elses_or_a_normal_status(world):
    other = decided(world.other_manager, reasons=["not_filed"])
    normal = decided(world.manager)
    for pk in (other.pk, normal.pk):
        with pytest.raises(PermissionDenied):
            object_to(world, target="status", pk=pk)
    with pytest.raises(PermissionDenied):
        services.objection_submit(actor=world.bureau, target="status", pk=other.pk, reason="x")


def test_upheld_status_objection_corrects_it_and_ends_its_listing(world):
    decided(world.manager, 2025, reasons=["not_filed"])
    status = decided(world.manager, reasons=["hours_short"])
    approved(world.manager)
    scores_recompute()
    entry = SupervisionEntry.objects.get(manager=world.manager)
    assert CreditScore.objects.get(manager=world.manager, year=YEAR).score == 40
    objection = object_to(world, target="status", pk=status.pk)
    services.objection_decide(
        actor=world.bureau, objection=objection, uphold=True, reason="学时系统漏登"
    )
    status.refresh_from_db()
    assert (status.status, status.reasons, status.removed_reasons) == (
        "normal",
        [],
        ["hours_short"],
    )
    assert status.corrected_by == world.bureau
    assert CreditEntry.objects.filter(
        manager=world.manager, cause=CreditEntry.Cause.CORRECTED, actor=world.bureau
    ).exists()
    entry.refresh_from_db()
    assert (entry.end_cause, entry.ended_by) == ("objection", world.bureau)
    assert CreditScore.objects.get(manager=world.manager, year=YEAR).score == 80
    objection.refresh_from_db()
    assert (objection.status, objection.decided_by, objection.decision_reason) == (
        "upheld",
        world.bureau,
        "学时系统漏登",
    )
    assert Notice.objects.filter(recipient=world.manager.user, kind=K.OBJECTION_DECIDED).exists()
    # Deciding the status again keeps the removed reason off.
    from registry.status import registry_status_refresh

    registry_status_refresh(manager=world.manager, year=YEAR, cause="conduct")
    status.refresh_from_db()
    assert status.reasons == []


def test_upheld_bad_record_objection_voids_it_with_history(world):
    decided(world.manager)
    approved(world.manager)
    bad = record(world.manager, "bad")
    scores_recompute()
    assert CreditScore.objects.get(manager=world.manager).score == 70
    objection = object_to(world, target="bad_record", pk=bad.pk)
    services.objection_decide(actor=world.bureau, objection=objection, uphold=True, reason="误录")
    bad.refresh_from_db()
    assert (bad.voided_by, bad.void_reason) == (world.bureau, "误录")
    assert ConductRecord.objects.filter(pk=bad.pk).exists()
    assert bad.history.count() >= 2
    assert CreditScore.objects.get(manager=world.manager).score == 80


def test_upheld_deduction_objection_waives_it(world):
    decided(world.manager)  # no approved filing: −5
    scores_recompute()
    assert CreditScore.objects.get(manager=world.manager).score == 45
    objection = object_to(world, target="deduction", year=YEAR, deduction="filing_late")
    services.objection_decide(actor=world.bureau, objection=objection, uphold=True, reason="ok")
    assert CreditScore.objects.get(manager=world.manager).score == 80


def test_a_deduction_not_in_the_file_cannot_be_objected_to(world):
    decided(world.manager)
    approved(world.manager)
    scores_recompute()
    with pytest.raises(PermissionDenied):
        object_to(world, target="deduction", year=YEAR, deduction="filing_late")


def test_upheld_list_objection_ends_the_entry(world):
    entry = services.supervision_list(actor=world.bureau, manager=world.manager, reason="x")
    objection = object_to(world, target="supervision", pk=entry.pk)
    services.objection_decide(actor=world.bureau, objection=objection, uphold=True, reason="ok")
    entry.refresh_from_db()
    assert entry.end_cause == "objection"


def test_rejected_objection_changes_nothing_but_itself(world):
    status = decided(world.manager, reasons=["hours_short"])
    objection = object_to(world, target="status", pk=status.pk)
    services.objection_decide(actor=world.bureau, objection=objection, uphold=False, reason="无据")
    status.refresh_from_db()
    assert status.reasons == ["hours_short"]
    objection.refresh_from_db()
    assert objection.status == "rejected"


def test_a_decided_objection_cannot_be_decided_again(world):
    status = decided(world.manager, reasons=["hours_short"])
    objection = object_to(world, target="status", pk=status.pk)
    services.objection_decide(actor=world.bureau, objection=objection, uphold=False, reason="a")
    with pytest.raises(DomainError):
        services.objection_decide(
            actor=world.prefecture_bureau, objection=objection, uphold=True, reason="b"
        )
    objection.refresh_from_db()
    assert (objection.status, objection.decided_by) == ("rejected", world.bureau)
    assert RegistryStatus.objects.get(pk=status.pk).reasons == ["hours_short"]


def test_only_bureau_staff_of_the_jurisdiction_decide(world):
    status = decided(world.manager, reasons=["hours_short"])
    objection = object_to(world, target="status", pk=status.pk)
    for outsider in (world.other_bureau, world.reviewer, world.manager.user):
        with pytest.raises(PermissionDenied):
            services.objection_decide(actor=outsider, objection=objection, uphold=True, reason="x")
    with pytest.raises(DomainError):
        services.objection_decide(actor=world.bureau, objection=objection, uphold=True, reason="")


# --- repair ----------------------------------------------------------------------------------


def repair(world, bad, **kwargs):
    return services.repair_submit(
        actor=world.manager.user,
        record=bad,
        statement=kwargs.pop("statement", "已整改完毕"),
        proof=kwargs.pop("proof", f.upload()),
        **kwargs,
    )


def test_repair_only_after_the_minimum_period(world):
    bad = record(world.manager, "bad", start=dt.date(2027, 3, 4))  # 89 days before today
    with pytest.raises(DomainError) as exc:
        repair(world, bad)
    assert "2027" in str(exc.value.messages[0])
    bad.effective_from = dt.date(2027, 3, 3)  # 90 days: possible
    bad.save()
    assert repair(world, bad).status == RepairRequest.Status.PENDING


def test_a_serious_record_waits_longer(world):
    bad = record(world.manager, "bad", severity="serious", start=dt.date(2026, 12, 1))
    with pytest.raises(DomainError):
        repair(world, bad)


def test_approved_repair_ends_the_records_effect_today(world):
    decided(world.manager)
    approved(world.manager)
    bad = record(world.manager, "bad", start=dt.date(2027, 1, 1), until=dt.date(2028, 1, 1))
    scores_recompute()
    assert CreditScore.objects.get(manager=world.manager).score == 70
    request = repair(world, bad)
    assert Notice.objects.filter(recipient=world.bureau, kind=K.REPAIR_SUBMITTED).exists()
    with pytest.raises(DomainError):
        repair(world, bad)  # one waits at a time
    services.repair_decide(actor=world.bureau, repair=request, approve=True, reason="整改到位")
    bad.refresh_from_db()
    assert bad.repaired_on == TODAY
    assert bad.effective_until == dt.date(2028, 1, 1)  # the record itself is unchanged
    assert CreditScore.objects.get(manager=world.manager).score == 80
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("approved", world.bureau)
    assert Notice.objects.filter(recipient=world.manager.user, kind=K.REPAIR_DECIDED).exists()
    with pytest.raises(DomainError):
        services.repair_decide(actor=world.bureau, repair=request, approve=False, reason="x")


def test_repair_needs_proof_and_own_record(world):
    bad = record(world.manager, "bad", start=dt.date(2026, 9, 1))
    with pytest.raises(DomainError):
        repair(world, bad, proof=None)
    other = record(world.other_manager, "bad", start=dt.date(2026, 9, 1))
    with pytest.raises(PermissionDenied):
        repair(world, other)
    request = repair(world, bad)
    with pytest.raises(PermissionDenied):
        services.repair_decide(actor=world.other_bureau, repair=request, approve=True, reason="x")


def test_pending_objection_count_is_scoped(world):
    from credit.selectors import objection_list_for

    status = decided(world.manager, reasons=["hours_short"])
    object_to(world, target="status", pk=status.pk)
    assert objection_list_for(user=world.bureau).count() == 1
    assert objection_list_for(user=world.prefecture_bureau).count() == 1
    assert objection_list_for(user=world.other_bureau).count() == 0
    assert objection_list_for(user=world.reviewer).count() == 0
    assert objection_list_for(user=world.other_manager.user).count() == 0


__all__ = ["Objection"]
