"""Triage of the bureau's filing list: the risk flags, "approve every filing without a risk
flag" as a background job, assignment and "my queue", extensions to many managers at once."""

import datetime as dt
import importlib
import io

import openpyxl
import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.errors import DomainError
from notifications.models import Notice
from registry import services, triage
from registry.models import (
    AnnualFiling,
    BulkApprovalItem,
    BulkApprovalJob,
    FilingExtension,
    FilingProof,
    ReviewEvent,
)
from tests import factories as f
from training.models import HoursRule

from .conftest import YEAR

Status = AnnualFiling.Status
Outcome = BulkApprovalItem.Outcome
CHANGELIST = "admin:registry_annualfiling_changelist"


def new_manager(world, name, firm=None):
    manager = f.ManagerProfileFactory(real_name=name)
    f.employ(manager, firm or world.firm)
    return manager


def submitted_by(manager, *, transcript=True):
    """The manager's filing, submitted with five proofs; the CE proof is the portal's transcript
    unless `transcript` is False."""
    filing = services.filing_start(actor=manager.user, year=YEAR)
    f.add_proofs(filing)
    if transcript:
        FilingProof.objects.filter(filing=filing, kind="ce").update(generated=True)
    return services.filing_submit(actor=manager.user, filing=filing)


def forwarded_by(world, manager, *, reviewer=None, **kwargs):
    filing = submitted_by(manager, **kwargs)
    return services.filing_firm_approve(actor=reviewer or world.reviewer, filing=filing)


def flags_of(filing):
    row = triage.with_risk(AnnualFiling.objects.filter(pk=filing.pk)).values(*triage.RISK_NAMES)
    return {name for name, on in row.get().items() if on}


def changelist_ids(client, query=""):
    response = client.get(reverse(CHANGELIST) + query)
    assert response.status_code == 200
    return {filing.pk for filing in response.context["cl"].result_list}


# --- the risk flags ------------------------------------------------------------------------------


def test_a_clean_filing_has_no_risk_flag(filing_world):
    filing = forwarded_by(filing_world, filing_world.manager)
    assert flags_of(filing) == set()


def test_hours_short_at_submission_is_stored_and_flagged(filing_world):
    HoursRule.objects.create(jurisdiction=filing_world.province, year=YEAR, annual_minimum=24)
    f.study_hours(filing_world.manager, YEAR, 10)
    short = submitted_by(filing_world.manager)
    enough_manager = new_manager(filing_world, "够学时")
    f.study_hours(enough_manager, YEAR, 30)
    enough = submitted_by(enough_manager)
    assert short.hours_short_at_submission and not enough.hours_short_at_submission
    assert flags_of(short) == {"risk_hours_short"}
    assert flags_of(enough) == set()
    # Hours added later do not change what the filing was submitted with.
    f.study_hours(filing_world.manager, YEAR, 30)
    assert flags_of(short) == {"risk_hours_short"}


def test_ce_proof_uploaded_rather_than_the_transcript_is_flagged(filing_world):
    uploaded = submitted_by(filing_world.manager, transcript=False)
    transcript = submitted_by(new_manager(filing_world, "用成绩单"))
    assert flags_of(uploaded) == {"risk_ce_uploaded"}
    assert flags_of(transcript) == set()


def test_resubmission_after_a_return_is_flagged(filing_world):
    filing = submitted_by(filing_world.manager)
    services.filing_firm_return(actor=filing_world.reviewer, filing=filing, reason="合同不清")
    assert flags_of(filing) == {"risk_resubmitted"}  # returned: counted at the return
    filing = services.filing_submit(actor=filing_world.manager.user, filing=filing)
    assert filing.return_count == 1
    assert flags_of(filing) == {"risk_resubmitted"}


def test_a_withdrawal_and_resubmission_is_not_a_return(filing_world):
    filing = submitted_by(filing_world.manager)
    filing = services.filing_withdraw(actor=filing_world.manager.user, filing=filing)
    filing = services.filing_submit(actor=filing_world.manager.user, filing=filing)
    assert filing.round == 2 and flags_of(filing) == set()


def _upload(manager, filing, kind, content: bytes, name="合同.png"):
    file = ContentFile(content, name=name)
    file.detected_mime = "image/png"
    return services.filing_proof_upload(actor=manager.user, filing=filing, kind=kind, file=file)


def test_the_same_document_under_another_manager_is_flagged_on_both(filing_world):
    first = services.filing_start(actor=filing_world.manager.user, year=YEAR)
    other_manager = new_manager(filing_world, "同文件")
    second = services.filing_start(actor=other_manager.user, year=YEAR)
    same = f.png_bytes("red")
    a = _upload(filing_world.manager, first, "contract", same)
    b = _upload(other_manager, second, "contract", same, name="别的名字.png")
    assert a.content_hash == b.content_hash and len(a.content_hash) == 64
    # The second upload flags both filings.
    assert "risk_duplicate" in flags_of(first) and "risk_duplicate" in flags_of(second)
    # Replaced by a document of his own: the flag goes when the filing is submitted.
    _upload(other_manager, second, "contract", f.png_bytes("blue"))
    f.add_proofs(second, kinds=["id_card", "diploma", "title", "ce"])
    second = services.filing_submit(actor=other_manager.user, filing=second)
    assert "risk_duplicate" not in flags_of(second)
    # Nobody else holds the first one's document any more: its flag goes at its submission.
    f.add_proofs(first, kinds=["id_card", "diploma", "title", "ce"])
    first = services.filing_submit(actor=filing_world.manager.user, filing=first)
    assert "risk_duplicate" not in flags_of(first)


def test_a_duplicate_is_found_at_submission_too(filing_world):
    other_manager = new_manager(filing_world, "先交者")
    earlier = submitted_by(other_manager)
    FilingProof.objects.filter(filing=earlier, kind="title").update(content_hash="a" * 64)
    filing = services.filing_start(actor=filing_world.manager.user, year=YEAR)
    f.add_proofs(filing)
    FilingProof.objects.filter(filing=filing, kind="diploma").update(content_hash="a" * 64)
    FilingProof.objects.filter(filing=filing, kind="ce").update(generated=True)
    filing = services.filing_submit(actor=filing_world.manager.user, filing=filing)
    assert flags_of(filing) == {"risk_duplicate"}


def test_a_managers_own_document_twice_is_not_a_duplicate(filing_world):
    content = f.png_bytes("green")
    filing = services.filing_start(actor=filing_world.manager.user, year=YEAR)
    a = _upload(filing_world.manager, filing, "id_card", content)
    b = _upload(filing_world.manager, filing, "diploma", content)
    assert a.content_hash == b.content_hash
    assert "risk_duplicate" not in flags_of(filing)


def test_the_admin_list_shows_the_risk_column_and_filters_by_flag(filing_world, as_user):
    HoursRule.objects.create(jurisdiction=filing_world.province, year=YEAR, annual_minimum=24)
    for m in (filing_world.manager,):
        f.study_hours(m, YEAR, 30)
    clean = forwarded_by(filing_world, filing_world.manager)
    short_manager = new_manager(filing_world, "差学时")
    short = forwarded_by(filing_world, short_manager)
    client = as_user(filing_world.bureau)
    assert changelist_ids(client, "?risk=none") == {clean.pk}
    assert changelist_ids(client, "?risk=any") == {short.pk}
    assert changelist_ids(client, "?risk=hours_short") == {short.pk}
    assert changelist_ids(client, "?risk=ce_uploaded") == set()
    html = client.get(reverse(CHANGELIST), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "提交时学时不足" in html  # the flag's label, in Chinese


def test_firm_review_duration_filter(filing_world, as_user):
    quick = forwarded_by(filing_world, filing_world.manager)
    slow = forwarded_by(filing_world, new_manager(filing_world, "慢审核"))
    AnnualFiling.objects.filter(pk=slow.pk).update(
        submitted_at=slow.firm_approved_at - dt.timedelta(days=10)
    )
    client = as_user(filing_world.bureau)
    assert changelist_ids(client, "?firm_took=day") == {quick.pk}
    assert changelist_ids(client, "?firm_took=over7") == {slow.pk}
    assert changelist_ids(client, "?firm_took=over30") == set()


# --- approve every filing without a risk flag ---------------------------------------------------


@pytest.fixture
def three(filing_world):
    """Three filings awaiting the bureau: clean, flagged (CE uploaded), clean."""
    clean = forwarded_by(filing_world, filing_world.manager)
    flagged = forwarded_by(filing_world, new_manager(filing_world, "上传证明"), transcript=False)
    later = forwarded_by(filing_world, new_manager(filing_world, "将被退回"))
    return clean, flagged, later


def outcomes(job):
    return dict(job.items.values_list("filing_id", "outcome"))


def test_bulk_approval_approves_the_clean_skips_the_flagged_and_reports_changes(
    filing_world, three
):
    clean, flagged, later = three
    job, started = triage.bulk_approval_start(
        actor=filing_world.bureau, filings=AnnualFiling.objects.all()
    )
    assert started and job.total == 3 and job.state == BulkApprovalJob.State.QUEUED
    # Meanwhile a colleague returns one of them.
    colleague = f.BureauMembershipFactory(jurisdiction=filing_world.county).user
    services.filing_bureau_return(actor=colleague, filing=later, reason="证件模糊")

    job = triage.bulk_approval_run(job_id=job.pk)

    assert job.state == BulkApprovalJob.State.DONE and job.finished_at
    assert outcomes(job) == {
        clean.pk: Outcome.APPROVED,
        flagged.pk: Outcome.SKIPPED,
        later.pk: Outcome.CHANGED,
    }
    statuses = dict(AnnualFiling.objects.values_list("pk", "status"))
    assert statuses == {
        clean.pk: Status.APPROVED,
        flagged.pk: Status.AWAITING_BUREAU,
        later.pk: Status.RETURNED,
    }
    notes = dict(job.items.values_list("filing_id", "note"))
    assert "CE proof uploaded" in notes[flagged.pk]
    assert "Returned" in notes[later.pk]
    # Approved as the official who started it, through the one approval service.
    clean.refresh_from_db()
    assert clean.events.get(action="bureau_approve").actor == filing_world.bureau
    assert clean.certificate_code


def test_a_filing_flagged_after_the_job_started_is_not_approved(filing_world, three):
    clean, _flagged, _later = three
    job, _ = triage.bulk_approval_start(
        actor=filing_world.bureau, filings=AnnualFiling.objects.filter(pk=clean.pk)
    )
    # Another manager uploads a copy of one of its documents: flagged (not a change of it).
    AnnualFiling.objects.filter(pk=clean.pk).update(duplicate_document=True)
    job = triage.bulk_approval_run(job_id=job.pk)
    assert outcomes(job) == {clean.pk: Outcome.CHANGED}
    assert "Flagged since" in job.items.get().note
    clean.refresh_from_db()
    assert clean.status == Status.AWAITING_BUREAU


def test_running_the_job_twice_decides_each_filing_once(filing_world, three):
    job, _ = triage.bulk_approval_start(
        actor=filing_world.bureau, filings=AnnualFiling.objects.all()
    )
    triage.bulk_approval_run(job_id=job.pk)
    first = list(job.items.order_by("pk").values_list("outcome", "note", "done_at"))
    triage.bulk_approval_run(job_id=job.pk)
    assert list(job.items.order_by("pk").values_list("outcome", "note", "done_at")) == first
    assert AnnualFiling.objects.filter(status=Status.APPROVED).count() == 2
    assert ReviewEvent.objects.filter(action="bureau_approve").count() == 2  # not four


def test_a_double_click_returns_the_running_job(filing_world, three):
    first, started = triage.bulk_approval_start(
        actor=filing_world.bureau, filings=AnnualFiling.objects.all()
    )
    again, started_again = triage.bulk_approval_start(
        actor=filing_world.bureau, filings=AnnualFiling.objects.all()
    )
    assert started and not started_again and again.pk == first.pk
    assert BulkApprovalJob.objects.count() == 1 and BulkApprovalItem.objects.count() == 3


def test_only_filings_awaiting_the_bureau_in_reach_are_taken(filing_world, three):
    other = forwarded_by(
        filing_world, filing_world.other_manager, reviewer=filing_world.other_reviewer
    )
    job, _ = triage.bulk_approval_start(
        actor=filing_world.bureau, filings=AnnualFiling.objects.all()
    )
    assert other.pk not in outcomes(job) and job.total == 3


def test_firm_reviewers_cannot_start_a_bulk_approval(filing_world, three):
    with pytest.raises(PermissionDenied):
        triage.bulk_approval_start(actor=filing_world.reviewer, filings=AnnualFiling.objects.all())


def test_bulk_approval_from_the_list_runs_in_the_background_with_progress_and_result(
    filing_world, three, as_user, django_capture_on_commit_callbacks
):
    clean, flagged, later = three
    client = as_user(filing_world.bureau)
    with django_capture_on_commit_callbacks(execute=True):  # the task runs eagerly after commit
        response = client.post(
            reverse("admin:registry_annualfiling_bulk_approve"),
            {"query": f"status__exact={Status.AWAITING_BUREAU}&q=将被退回"},
        )
    job = BulkApprovalJob.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:registry_annualfiling_bulk_job", args=[job.pk])
    # The filter the official chose: only the filing the search found.
    assert outcomes(job) == {later.pk: Outcome.APPROVED}

    page = client.get(response.url, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<progress" in html and 'value="1"' in html
    assert 'http-equiv="refresh"' not in html  # finished: no more refreshing

    result = client.get(reverse("admin:registry_annualfiling_bulk_result", args=[job.pk]))
    assert result.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(result.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "将被退回" and rows[1][3] == YEAR
    # Someone else's job: 404.
    colleague = f.BureauMembershipFactory(jurisdiction=filing_world.county).user
    assert as_user(colleague).get(response.url).status_code == 404


def test_bulk_approval_result_lists_every_outcome(filing_world, three, as_user):
    clean, flagged, later = three
    job, _ = triage.bulk_approval_start(
        actor=filing_world.bureau, filings=AnnualFiling.objects.all()
    )
    services.filing_bureau_approve(actor=filing_world.prefecture_bureau, filing=later)
    triage.bulk_approval_run(job_id=job.pk)
    client = as_user(filing_world.bureau)
    response = client.get(
        reverse("admin:registry_annualfiling_bulk_result", args=[job.pk]),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:5] == ("物业管理员", "执业登记号", "物业服务企业", "年度", "结果")
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name[filing_world.manager.real_name][4] == "已批准"
    assert by_name["上传证明"][4] == "已跳过"
    assert by_name["将被退回"][4] == "期间已变更，未批准"


def test_the_list_action_starts_a_job_for_the_selected_filings(filing_world, three, as_user):
    clean, flagged, later = three
    client = as_user(filing_world.bureau)
    response = client.post(
        reverse(CHANGELIST),
        {"action": "approve_unflagged", "_selected_action": [clean.pk, flagged.pk]},
    )
    job = BulkApprovalJob.objects.get()
    assert response.status_code == 302 and str(job.pk) in response.url
    assert set(outcomes(job)) == {clean.pk, flagged.pk}


# --- assignment and my queue --------------------------------------------------------------------


def test_filings_assigned_to_an_official_are_in_his_queue_only(filing_world, three, as_user):
    clean, flagged, later = three
    colleague = f.BureauMembershipFactory(jurisdiction=filing_world.county).user
    client = as_user(filing_world.bureau)
    response = client.post(
        reverse(CHANGELIST),
        {
            "action": "assign_filings",
            "_selected_action": [clean.pk, flagged.pk],
            "apply": "1",
            "assignee": colleague.pk,
        },
    )
    assert response.status_code == 302
    assert set(AnnualFiling.objects.filter(assigned_to=colleague).values_list("pk", flat=True)) == {
        clean.pk,
        flagged.pk,
    }
    assert changelist_ids(as_user(colleague), "?assigned=me") == {clean.pk, flagged.pk}
    assert changelist_ids(client, "?assigned=me") == set()
    assert changelist_ids(client, "?assigned=nobody") == {later.pk}
    # An assignment is not a change of the filing: a bulk approval started before still runs.
    clean.refresh_from_db()
    assert clean.updated_at == AnnualFiling.objects.get(pk=clean.pk).updated_at


def test_assigning_one_filing_from_its_page(filing_world, three, as_user):
    clean, *_ = three
    colleague = f.BureauMembershipFactory(jurisdiction=filing_world.county).user
    client = as_user(filing_world.bureau)
    page = client.get(reverse("admin:registry_annualfiling_change", args=[clean.pk]))
    assert b'data-testid="assign"' in page.content
    url = reverse("admin:registry_annualfiling_assign", args=[clean.pk])
    assert client.get(url).status_code == 302  # GET changes nothing
    client.post(url, {"assignee": colleague.pk})
    clean.refresh_from_db()
    assert clean.assigned_to == colleague and clean.assigned_at
    client.post(url, {"assignee": ""})  # to nobody
    clean.refresh_from_db()
    assert clean.assigned_to is None


def test_other_jurisdictions_staff_cannot_assign_or_be_assigned(filing_world, three, as_user):
    clean, *_ = three
    url = reverse("admin:registry_annualfiling_assign", args=[clean.pk])
    outsider = as_user(filing_world.other_bureau)
    assert outsider.post(url, {"assignee": filing_world.other_bureau.pk}).status_code == 404
    # Staff of another county are not among those a county official may choose.
    with pytest.raises(DomainError):
        triage.filing_assign(
            actor=filing_world.bureau,
            filings=AnnualFiling.objects.filter(pk=clean.pk),
            assignee=filing_world.other_bureau,
        )
    # A prefecture official may choose them, but not for a filing of another county.
    result = triage.filing_assign(
        actor=filing_world.prefecture_bureau,
        filings=AnnualFiling.objects.filter(pk=clean.pk),
        assignee=filing_world.other_bureau,
    )
    assert result.assigned == 0 and [f.pk for f, _why in result.refused] == [clean.pk]
    clean.refresh_from_db()
    assert clean.assigned_to is None


# --- extensions to many managers ------------------------------------------------------------------


def test_extensions_for_many_managers_at_once_each_told_once(filing_world, as_user):
    window_close = timezone.localdate() + dt.timedelta(days=30)  # f.open_window's
    until = window_close + dt.timedelta(days=20)
    extra = new_manager(filing_world, "延期者")
    numbers = [
        filing_world.manager.registration_number,
        filing_world.other_manager.registration_number,
        extra.registration_number,
    ]
    url = reverse("admin:registry_annualfiling_extensions")
    data = {
        "numbers": "\n".join(numbers) + "\nPM0000NOPE",
        "year": YEAR,
        "until": until.isoformat(),
        "reason": "系统故障",
    }
    client = as_user(filing_world.bureau)  # the county: not the other county's manager
    assert client.get(url).status_code == 200
    response = client.post(url, data, follow=True)
    assert response.status_code == 200
    got = dict(FilingExtension.objects.values_list("manager_id", "until"))
    assert got == {filing_world.manager.pk: until, extra.pk: until}
    assert (
        FilingExtension.objects.filter(granted_by=filing_world.bureau, reason="系统故障").count()
        == 2
    )
    notices = Notice.objects.filter(kind=Notice.Kind.FILING_EXTENDED)
    assert set(notices.values_list("recipient_id", flat=True)) == {
        filing_world.manager.user_id,
        extra.user_id,
    }
    messages = [str(m) for m in response.context["messages"]]
    assert any(
        "PM0000NOPE" in m and filing_world.other_manager.registration_number in m for m in messages
    )
    # A double click: nothing twice.
    client.post(url, data)
    assert notices.count() == 2 and FilingExtension.objects.count() == 2
    # An earlier deadline never shortens one granted.
    result = triage.filing_extensions_grant(
        actor=filing_world.bureau,
        managers=filing_world.manager.__class__.objects.filter(pk=filing_world.manager.pk),
        year=YEAR,
        until=until - dt.timedelta(days=5),
        reason="再次",
    )
    assert result.kept == 1 and not result.granted
    assert FilingExtension.objects.get(manager=filing_world.manager).until == until


def test_an_extension_must_end_after_the_window(filing_world):
    result = triage.filing_extensions_grant(
        actor=filing_world.bureau,
        managers=filing_world.manager.__class__.objects.filter(pk=filing_world.manager.pk),
        year=YEAR,
        until=timezone.localdate(),
        reason="太早",
    )
    assert not result.granted and len(result.refused) == 1
    assert not FilingExtension.objects.exists()


def test_the_extension_action_prefills_the_selected_managers(filing_world, three, as_user):
    clean, flagged, _ = three
    response = as_user(filing_world.bureau).post(
        reverse(CHANGELIST),
        {"action": "extend_managers", "_selected_action": [clean.pk, flagged.pk]},
    )
    assert response.status_code == 200
    initial = response.context["form"].initial["numbers"]
    assert clean.manager.registration_number in initial
    assert flagged.manager.registration_number in initial


# --- the list stays constant in queries -------------------------------------------------------


def _bulk_forwarded(world, count, prefix, *, assignee=None):
    managers = f.bulk_managers(count, prefix, firm=world.firm)
    now = timezone.now()
    filings = AnnualFiling.objects.bulk_create(
        [
            AnnualFiling(
                manager=m,
                year=YEAR,
                status=Status.AWAITING_BUREAU,
                firm=world.firm,
                jurisdiction=world.county,
                round=1 + i % 2,
                return_count=i % 2,
                hours_short_at_submission=i % 3 == 0,
                ce_uploaded=i % 2 == 0,
                duplicate_document=i % 7 == 0,
                submitted_at=now - dt.timedelta(days=i % 40),
                firm_approved_at=now,
                assigned_to=assignee if i % 2 else None,
            )
            for i, m in enumerate(managers)
        ]
    )
    FilingProof.objects.bulk_create(
        [
            FilingProof(
                filing=filing,
                kind=kind,
                file=f"proofs/{prefix}{filing.pk}{kind}.png",
                original_name="x.png",
                mime="image/png",
                uploaded_by=world.manager.user,
                generated=kind == "ce" and filing.pk % 2 == 0,
                content_hash=f"{filing.pk % 7:064d}",
            )
            for filing in filings
            for kind in ("ce", "contract")
        ]
    )


def test_the_bureau_list_with_triage_is_constant_in_queries(filing_world, as_user):
    client = as_user(filing_world.bureau)
    base = reverse(CHANGELIST)
    urls = [
        base,
        base + "?risk=any",
        base + "?risk=none",
        base + "?risk=duplicate",
        base + "?assigned=me&status__exact=awaiting_bureau",
        base + "?firm_took=over7",
    ]

    def count(url):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        return len(ctx.captured_queries), len(response.context["cl"].result_list)

    _bulk_forwarded(filing_world, 20, "TA", assignee=filing_world.bureau)
    few = {url: count(url)[0] for url in urls}
    _bulk_forwarded(filing_world, 400, "TB", assignee=filing_world.bureau)
    for url in urls:
        queries, rows = count(url)
        assert queries <= few[url], url
        assert rows > 20 or "risk=none" in url, url


def test_a_stalled_job_can_be_continued_by_its_official_only(
    filing_world, three, as_user, django_capture_on_commit_callbacks
):
    job, _ = triage.bulk_approval_start(
        actor=filing_world.bureau, filings=AnnualFiling.objects.all()
    )  # its task never ran (no commit in this test): as if the broker had lost it
    url = reverse("admin:registry_annualfiling_bulk_continue", args=[job.pk])
    colleague = f.BureauMembershipFactory(jurisdiction=filing_world.county).user
    assert as_user(colleague).post(url).status_code == 404
    client = as_user(filing_world.bureau)
    assert (
        b'data-testid="bulk-continue"'
        in client.get(reverse("admin:registry_annualfiling_bulk_job", args=[job.pk])).content
    )
    client.post(url)  # publishes the task again: eager here
    job.refresh_from_db()
    assert job.state == BulkApprovalJob.State.DONE
    assert AnnualFiling.objects.filter(status=Status.APPROVED).count() == 2


def test_the_migration_and_the_hash_command_backfill_the_flags_and_hashes(
    filing_world, django_capture_on_commit_callbacks
):
    backfill = importlib.import_module("registry.migrations.0007_triage").backfill
    HoursRule.objects.create(jurisdiction=filing_world.province, year=YEAR, annual_minimum=24)
    short = submitted_by(filing_world.manager, transcript=False)
    services.filing_firm_return(actor=filing_world.reviewer, filing=short, reason="补正")
    other = new_manager(filing_world, "同证书")
    copy = submitted_by(other)
    # The same stored file under both managers (as if copied), then every flag forgotten.
    mine = FilingProof.objects.get(filing=short, kind="title")
    FilingProof.objects.filter(filing=copy, kind="title").update(file=mine.file.name)
    AnnualFiling.objects.update(
        hours_short_at_submission=False, return_count=0, ce_uploaded=False, duplicate_document=False
    )
    FilingProof.objects.update(content_hash="")

    backfill(apps, None)
    assert not AnnualFiling.objects.filter(duplicate_document=True).exists()  # not yet hashed
    out = io.StringIO()
    call_command("hash_stored_files", "--batch", "2", stdout=out)  # several batches

    assert "filings flagged for a shared document: 2" in out.getvalue()
    short.refresh_from_db()
    copy.refresh_from_db()
    assert (short.hours_short_at_submission, short.return_count, short.ce_uploaded) == (
        True,
        1,
        True,
    )
    assert short.duplicate_document and copy.duplicate_document
    assert not copy.ce_uploaded and copy.return_count == 0
    assert not FilingProof.objects.filter(content_hash="").exists()
