"""The filing workflow through its services: each transition, each refusal, the snapshot."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from accounts.models import Employment
from accounts.services import profile_save
from core.errors import DomainError
from registry import selectors, services
from registry.models import AnnualFiling, FilingExtension, FilingProof, FilingWindow, ReviewEvent
from tests import factories as f

from .conftest import YEAR

SHANGHAI = ZoneInfo("Asia/Shanghai")

S = AnnualFiling.Status


def _state(filing):
    filing.refresh_from_db()
    return filing.status, ReviewEvent.objects.filter(filing=filing).count()


def test_the_whole_round_trip_records_every_event(draft, filing_world):
    w = filing_world
    services.filing_submit(actor=w.manager.user, filing=draft)
    services.filing_firm_return(actor=w.reviewer, filing=draft, reason="合同页不清晰")
    draft.refresh_from_db()
    assert draft.status == S.RETURNED and draft.return_reason == "合同页不清晰"
    services.filing_submit(actor=w.manager.user, filing=draft)
    services.filing_firm_approve(actor=w.reviewer, filing=draft)
    services.filing_bureau_return(actor=w.bureau, filing=draft, reason="学历证书缺页")
    services.filing_submit(actor=w.manager.user, filing=draft)
    services.filing_firm_approve(actor=w.reviewer, filing=draft)
    services.filing_bureau_approve(actor=w.bureau, filing=draft)
    draft.refresh_from_db()
    assert draft.status == S.APPROVED
    assert draft.round == 3
    assert len(draft.certificate_code) == services.CODE_LENGTH
    events = list(draft.events.order_by("pk").values_list("action", "from_status", "to_status"))
    assert events == [
        ("start", "", "draft"),
        ("submit", "draft", "awaiting_firm"),
        ("firm_return", "awaiting_firm", "returned"),
        ("submit", "returned", "awaiting_firm"),
        ("firm_approve", "awaiting_firm", "awaiting_bureau"),
        ("bureau_return", "awaiting_bureau", "returned"),
        ("submit", "returned", "awaiting_firm"),
        ("firm_approve", "awaiting_firm", "awaiting_bureau"),
        ("bureau_approve", "awaiting_bureau", "approved"),
    ]
    reasons = [e.reason for e in draft.events.order_by("pk") if e.reason]
    assert reasons == ["合同页不清晰", "学历证书缺页"]


def test_starting_twice_gives_the_same_draft(filing_world):
    user = filing_world.manager.user
    first = services.filing_start(actor=user, year=YEAR)
    assert services.filing_start(actor=user, year=YEAR).pk == first.pk
    assert AnnualFiling.objects.filter(manager=filing_world.manager, year=YEAR).count() == 1


def test_one_filing_per_manager_and_year_is_a_database_rule(draft):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        AnnualFiling.objects.create(manager=draft.manager, year=draft.year)


def _noon(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=SHANGHAI)


def test_cannot_start_before_the_preparation_opens(world):
    # The default window of 2030 opens on 2031-01-01; preparing starts on 2030-10-01.
    with time_machine.travel(_noon(dt.date(2030, 9, 30)), tick=False):
        with pytest.raises(DomainError, match="can be prepared from"):
            services.filing_start(actor=world.manager.user, year=2030)
    assert not AnnualFiling.objects.exists()


def test_a_draft_is_prepared_before_the_window_and_submitted_only_inside_it(world):
    user = world.manager.user
    with time_machine.travel(_noon(dt.date(2030, 10, 1)), tick=False):
        filing = services.filing_start(actor=user, year=2030)
        f.add_proofs(filing)
        with pytest.raises(DomainError, match="window opens on"):
            services.filing_submit(actor=user, filing=filing)
        assert _state(filing) == (S.DRAFT, 1)
    with time_machine.travel(_noon(dt.date(2030, 12, 31)), tick=False):
        with pytest.raises(DomainError, match="window opens on"):
            services.filing_submit(actor=user, filing=filing)
    with time_machine.travel(_noon(dt.date(2031, 1, 1)), tick=False):
        services.filing_submit(actor=user, filing=filing)
    assert _state(filing) == (S.AWAITING_FIRM, 2)


def test_preparing_follows_a_window_that_opens_before_october(world):
    FilingWindow.objects.create(
        jurisdiction=world.county, year=2030, opens_on="2030-09-15", closes_on="2030-12-31"
    )
    with time_machine.travel(_noon(dt.date(2030, 9, 14)), tick=False):
        with pytest.raises(DomainError, match="can be prepared from"):
            services.filing_start(actor=world.manager.user, year=2030)
    with time_machine.travel(_noon(dt.date(2030, 9, 15)), tick=False):
        assert services.filing_start(actor=world.manager.user, year=2030).status == S.DRAFT


def test_cannot_start_after_the_deadline(world):
    with time_machine.travel(_noon(dt.date(2031, 4, 1)), tick=False):
        with pytest.raises(DomainError, match="window closed"):
            services.filing_start(actor=world.manager.user, year=2030)
    assert not AnnualFiling.objects.exists()


def test_the_preparation_day_is_a_setting(world, settings):
    settings.REGISTRY_PREPARE_FROM = "11-15"
    with time_machine.travel(_noon(dt.date(2030, 11, 14)), tick=False):
        with pytest.raises(DomainError, match="can be prepared from"):
            services.filing_start(actor=world.manager.user, year=2030)
    with time_machine.travel(_noon(dt.date(2030, 11, 15)), tick=False):
        services.filing_start(actor=world.manager.user, year=2030)


def test_submission_refused_with_every_reason_and_nothing_changes(filing_world):
    w = filing_world
    filing = services.filing_start(actor=w.manager.user, year=YEAR)
    f.add_proofs(filing, kinds=["id_card", "diploma", "title"])
    with pytest.raises(DomainError) as exc:
        services.filing_submit(actor=w.manager.user, filing=filing)
    messages = exc.value.messages
    assert any("Continuing-education proof" in m for m in messages)
    assert any("Labour contract" in m for m in messages)
    assert len(messages) == 2
    assert _state(filing) == (S.DRAFT, 1)
    assert filing.snapshot == {}


def test_submission_refused_without_confirmed_employment(draft, filing_world):
    Employment.objects.filter(manager=filing_world.manager).update(status="ended")
    with pytest.raises(DomainError, match="no confirmed current employment"):
        services.filing_submit(actor=filing_world.manager.user, filing=draft)
    assert _state(draft) == (S.DRAFT, 1)


def test_submission_refused_after_the_window_closes_unless_extended(draft, filing_world):
    w = filing_world
    window = FilingWindow.objects.get(jurisdiction=w.province, year=YEAR)
    with time_machine.travel(window.closes_on + dt.timedelta(days=1)):
        with pytest.raises(DomainError, match="window closed"):
            services.filing_submit(actor=w.manager.user, filing=draft)
        assert _state(draft) == (S.DRAFT, 1)
        services.filing_extension_grant(
            actor=w.bureau,
            manager=w.manager,
            year=YEAR,
            until=window.closes_on + dt.timedelta(days=14),
            reason="住院治疗",
        )
        services.filing_submit(actor=w.manager.user, filing=draft)
    assert _state(draft) == (S.AWAITING_FIRM, 2)


def test_an_extension_must_end_after_the_window_and_have_a_reason(filing_world):
    w = filing_world
    closes = selectors.window_for(jurisdiction=w.county, year=YEAR).closes_on
    with pytest.raises(DomainError):
        services.filing_extension_grant(
            actor=w.bureau, manager=w.manager, year=YEAR, until=closes, reason="x"
        )
    with pytest.raises(DomainError):
        services.filing_extension_grant(
            actor=w.bureau, manager=w.manager, year=YEAR, until=closes + dt.timedelta(1), reason=" "
        )
    with pytest.raises(PermissionDenied):
        services.filing_extension_grant(
            actor=w.other_bureau,
            manager=w.manager,
            year=YEAR,
            until=closes + dt.timedelta(1),
            reason="x",
        )
    assert not FilingExtension.objects.exists()


def test_windows_are_inherited_and_the_default_is_the_next_first_quarter(world):
    assert selectors.window_for(jurisdiction=world.county, year=2030).opens_on == dt.date(
        2031, 1, 1
    )
    assert selectors.window_for(jurisdiction=world.county, year=2030).closes_on == dt.date(
        2031, 3, 31
    )
    FilingWindow.objects.create(
        jurisdiction=world.prefecture, year=2030, opens_on="2030-12-01", closes_on="2031-04-15"
    )
    FilingWindow.objects.create(
        jurisdiction=world.other_county, year=2030, opens_on="2031-01-10", closes_on="2031-03-20"
    )
    assert selectors.window_for(jurisdiction=world.county, year=2030).closes_on == dt.date(
        2031, 4, 15
    )
    assert selectors.window_for(jurisdiction=world.other_county, year=2030).closes_on == dt.date(
        2031, 3, 20
    )


def test_the_snapshot_freezes_what_was_submitted(submitted, filing_world):
    snap = submitted.snapshot
    assert snap["profile"]["real_name"] == "彭建国"
    assert snap["profile"]["masked_id_number"] == filing_world.manager.masked_id_number
    assert filing_world.manager.id_number not in str(snap)
    assert snap["firm"]["name"] == filing_world.firm.name
    assert snap["compliance"]["year"] == YEAR
    profile_save(actor=filing_world.manager.user, data={"phone": "13712345678"})
    submitted.refresh_from_db()
    assert snap["profile"]["phone"] != "13712345678"
    assert submitted.snapshot["profile"]["phone"] == snap["profile"]["phone"]
    assert submitted.firm == filing_world.firm
    assert submitted.jurisdiction == filing_world.county


def test_withdraw_only_before_the_firm_acts(submitted, filing_world):
    w = filing_world
    services.filing_withdraw(actor=w.manager.user, filing=submitted)
    assert _state(submitted) == (S.DRAFT, 3)
    services.filing_submit(actor=w.manager.user, filing=submitted)
    services.filing_firm_approve(actor=w.reviewer, filing=submitted)
    with pytest.raises(DomainError, match="Approved by the firm"):
        services.filing_withdraw(actor=w.manager.user, filing=submitted)
    assert _state(submitted) == (S.AWAITING_BUREAU, 5)


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_return_needs_a_reason(submitted, filing_world, reason):
    with pytest.raises(DomainError, match="reason"):
        services.filing_firm_return(actor=filing_world.reviewer, filing=submitted, reason=reason)
    assert _state(submitted) == (S.AWAITING_FIRM, 2)


def test_wrong_state_is_refused_and_says_what_happened(forwarded, filing_world):
    w = filing_world
    with pytest.raises(DomainError) as exc:
        services.filing_firm_approve(actor=w.reviewer, filing=forwarded)
    assert "Approved by the firm and forwarded" in exc.value.messages[0]
    assert _state(forwarded) == (S.AWAITING_BUREAU, 3)
    with pytest.raises(DomainError):
        services.filing_submit(actor=w.manager.user, filing=forwarded)
    assert _state(forwarded) == (S.AWAITING_BUREAU, 3)


def test_bureau_cannot_act_at_the_firm_stage(submitted, filing_world):
    with pytest.raises(DomainError):
        services.filing_bureau_approve(actor=filing_world.bureau, filing=submitted)
    assert _state(submitted) == (S.AWAITING_FIRM, 2)
    assert submitted.certificate_code is None


@pytest.mark.parametrize("who", ["manager", "bureau", "other_reviewer", "provider_user"])
def test_only_the_current_firms_reviewer_acts_at_the_firm_stage(submitted, filing_world, who):
    actor = filing_world.manager.user if who == "manager" else getattr(filing_world, who)
    with pytest.raises(PermissionDenied):
        services.filing_firm_approve(actor=actor, filing=submitted)
    assert _state(submitted) == (S.AWAITING_FIRM, 2)


@pytest.mark.parametrize("who", ["manager", "reviewer", "other_bureau"])
def test_only_bureau_staff_of_the_jurisdiction_approve(forwarded, filing_world, who):
    actor = filing_world.manager.user if who == "manager" else getattr(filing_world, who)
    with pytest.raises(PermissionDenied):
        services.filing_bureau_approve(actor=actor, filing=forwarded)
    assert _state(forwarded) == (S.AWAITING_BUREAU, 3)


def test_prefecture_bureau_may_approve(forwarded, filing_world):
    services.filing_bureau_approve(actor=filing_world.prefecture_bureau, filing=forwarded)
    assert _state(forwarded) == (S.APPROVED, 4)


def test_manager_cannot_submit_someone_elses_filing(draft, filing_world):
    with pytest.raises(PermissionDenied):
        services.filing_submit(actor=filing_world.other_manager.user, filing=draft)
    assert _state(draft) == (S.DRAFT, 1)


def test_replacing_a_proof_keeps_the_old_file(draft, filing_world):
    old = FilingProof.objects.get(filing=draft, kind="contract")
    new = services.filing_proof_upload(
        actor=filing_world.manager.user, filing=draft, kind="contract", file=f.upload("新合同.png")
    )
    old.refresh_from_db()
    assert old.replaced_at is not None and old.file.storage.exists(old.file.name)
    assert new.replaced_at is None and new.original_name == "新合同.png"
    assert FilingProof.objects.filter(filing=draft, kind="contract").count() == 2
    assert new.file.name.startswith("proofs/") and new.file.name.endswith(".png")


def test_proofs_cannot_change_while_under_review(submitted, filing_world):
    with pytest.raises(DomainError):
        services.filing_proof_upload(
            actor=filing_world.manager.user, filing=submitted, kind="ce", file=f.upload()
        )
    assert FilingProof.objects.filter(filing=submitted).count() == 5


def test_an_executable_named_pdf_is_refused(draft, filing_world):
    from django.core.exceptions import ValidationError
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("合同.pdf", b"MZ\x90\x00" + b"\x00" * 500, "application/pdf")
    with pytest.raises(ValidationError):
        services.filing_proof_upload(
            actor=filing_world.manager.user, filing=draft, kind="contract", file=fake
        )
    assert FilingProof.objects.filter(filing=draft).count() == 5


def test_the_transcript_can_serve_as_the_ce_proof(draft, filing_world):
    proof = services.filing_proof_use_transcript(actor=filing_world.manager.user, filing=draft)
    assert proof.kind == "ce" and proof.generated and proof.mime == "application/pdf"
    with proof.file.open("rb") as fh:
        assert fh.read(4) == b"%PDF"


def test_a_submitted_year_locks_its_study_records(submitted, filing_world):
    from training import services as training_services
    from training.models import StudyRecord

    record = StudyRecord.objects.create(
        manager=filing_world.manager,
        external_title="外部课程",
        completed_on=dt.date(YEAR, 1, 5),
        hours=4,
        assessment="passed",
        source="self",
        status="pending",
    )
    with pytest.raises(DomainError, match="filing has been submitted"):
        training_services.study_record_delete(actor=filing_world.manager.user, record=record)
    assert StudyRecord.objects.filter(pk=record.pk).exists()
    services.filing_withdraw(actor=filing_world.manager.user, filing=submitted)
    training_services.study_record_delete(actor=filing_world.manager.user, record=record)
    assert not StudyRecord.objects.filter(pk=record.pk).exists()


def test_current_filing_year_follows_the_deadline(world):
    manager = world.manager
    assert selectors.current_filing_year(manager=manager, today=dt.date(2027, 2, 1)) == 2026
    assert selectors.current_filing_year(manager=manager, today=dt.date(2027, 4, 1)) == 2027
    assert selectors.current_filing_year(manager=manager, today=dt.date(2026, 11, 22)) == 2026
