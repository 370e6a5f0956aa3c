"""Provider imports stay in their lane: hours count at once only under the jurisdiction that
approved the provider, only inside its approval period, never over a bureau's decision or a filed
year; the reader stops at the row limit, and a large file goes to the worker with its progress
on the provider's page."""

import datetime as dt
import re
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from core.errors import DomainError
from tests import factories as f
from tests.training.test_imports import (
    Row,
    csv_bytes,
    english,
    import_file,
    make_course,
    row_for,
    xlsx_bytes,
)
from tests.workers import celery_worker
from training import imports, services
from training.models import Provider, ProviderReport, StudyRecord
from training.selectors import compliance_for
from training.tasks import process_provider_report

DASHBOARD = reverse("training:provider_dashboard")


@pytest.fixture
def county_provider(world):
    """A provider approved by 吉首市 (the manager's county), with one course and a user."""
    staff = f.ProviderStaffFactory(provider__jurisdiction=world.county)
    course = make_course(staff.provider, "JS2026-001")
    return staff.user, course


def import_as(user, content, **kwargs):
    with translation.override("en"):
        return imports.provider_report_import(
            actor=user, content=content, file_name="report.csv", **kwargs
        )


# --- who gains hours -----------------------------------------------------------------------------


def test_a_county_provider_reporting_a_manager_of_another_county_leaves_it_pending(
    world, county_provider
):
    user, course = county_provider
    result = import_as(
        user, csv_bytes([row_for(world.other_manager, course), row_for(world.manager, course)])
    )

    assert result.ok, result.errors
    assert (result.created, result.pending) == (2, 1)
    elsewhere = StudyRecord.objects.get(manager=world.other_manager)
    assert elsewhere.status == StudyRecord.Status.PENDING
    assert elsewhere.source == StudyRecord.Source.PROVIDER
    assert elsewhere.verified_at is None
    assert not elsewhere.counts
    assert compliance_for(manager=world.other_manager, year=2026).hours_year == 0
    # At home it counts at once.
    home = StudyRecord.objects.get(manager=world.manager)
    assert home.status == StudyRecord.Status.VERIFIED and home.counts
    assert result.report.pending_count == 1

    # The manager keeps it; his own bureau (凤凰县) accepts it, and then it counts.
    services.study_record_verify(actor=world.other_bureau, record=elsewhere)
    assert compliance_for(manager=world.other_manager, year=2026).hours_year == Decimal("8.0")


def test_a_manager_without_a_jurisdiction_waits_for_a_bureau_too(world, county_provider):
    user, course = county_provider
    loose = f.ManagerProfileFactory()
    assert loose.jurisdiction is None
    result = import_as(user, csv_bytes([row_for(loose, course)]))
    assert result.ok, result.errors
    assert StudyRecord.objects.get(manager=loose).status == StudyRecord.Status.PENDING


def test_a_prefecture_provider_counts_at_once_for_every_county_below_it(world):
    provider = world.provider_user.provider_staff.provider
    assert provider.jurisdiction == world.prefecture
    course = make_course(provider, "XX2026-700")
    result = import_file(
        world, csv_bytes([row_for(world.manager, course), row_for(world.other_manager, course)])
    )
    assert (result.created, result.pending) == (2, 0)
    assert set(StudyRecord.objects.values_list("status", flat=True)) == {"verified"}


def test_a_county_provider_cannot_replace_a_failed_record_elsewhere_with_a_counting_one(
    world, county_provider
):
    user, course = county_provider
    failed = StudyRecord.objects.create(
        manager=world.other_manager,
        course=course,
        completed_on=dt.date(2026, 3, 1),
        hours=Decimal("8"),
        assessment=StudyRecord.Assessment.FAILED,
        source=StudyRecord.Source.PROVIDER,
        status=StudyRecord.Status.VERIFIED,
    )
    result = import_as(user, csv_bytes([row_for(world.other_manager, course, passed="合格")]))
    assert (result.updated, result.pending) == (1, 1)
    failed.refresh_from_db()
    assert failed.assessment == StudyRecord.Assessment.PASSED
    assert failed.status == StudyRecord.Status.PENDING  # the pass waits for 凤凰县's bureau
    assert not failed.counts


# --- the approval period --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("completed_on", "ok"),
    [
        (dt.date(2026, 1, 31), False),
        (dt.date(2026, 2, 1), True),
        (dt.date(2026, 6, 30), True),
        (dt.date(2026, 7, 1), False),
    ],
)
def test_only_completions_inside_the_approval_period_are_accepted(world, completed_on, ok):
    provider = world.provider_user.provider_staff.provider
    Provider.objects.filter(pk=provider.pk).update(
        approved_from=dt.date(2026, 2, 1), approved_until=dt.date(2026, 6, 30)
    )
    course = make_course(provider, "XX2026-701")
    result = import_file(world, csv_bytes([row_for(world.manager, course, completed_on)]))
    if ok:
        assert result.ok, result.errors
        assert result.created == 1
    else:
        assert [(e.column, e.message) for e in result.errors] == [
            (
                "完成日期",
                "The completion date is outside your institution's approval period "
                "(2026-02-01 to 2026-06-30).",
            )
        ]
        assert StudyRecord.objects.count() == 0


def test_an_open_ended_approval_limits_only_its_start(world):
    provider = world.provider_user.provider_staff.provider
    Provider.objects.filter(pk=provider.pk).update(approved_from=dt.date(2026, 3, 1))
    course = make_course(provider, "XX2026-702")
    result = import_file(world, csv_bytes([row_for(world.manager, course, dt.date(2026, 2, 28))]))
    assert "(2026-03-01 to …)" in result.errors[0].message


# --- what the bureau decided, and filed years ------------------------------------------------------


def _own_record(manager, course, **kwargs):
    """The manager's own report of the course, awaiting verification."""
    fields = {
        "completed_on": dt.date(2026, 3, 10),
        "hours": Decimal("8"),
        "assessment": StudyRecord.Assessment.PASSED,
        "source": StudyRecord.Source.SELF,
        "status": StudyRecord.Status.PENDING,
        **kwargs,
    }
    return StudyRecord.objects.create(manager=manager, course=course, **fields)


def test_a_report_row_for_a_record_the_bureau_rejected_leaves_it_unchanged(world, as_user):
    provider = world.provider_user.provider_staff.provider
    course = make_course(provider, "XX2026-703")
    own = services.study_record_reject(
        actor=world.bureau, record=_own_record(world.manager, course), reason="证书与课程不符"
    )

    result = import_file(world, csv_bytes([row_for(world.manager, course, score=95)]))

    assert result.ok, result.errors
    assert (result.created, result.updated) == (0, 0)
    assert [(s.row, s.column) for s in result.skipped] == [(2, "课程编号")]
    assert "the bureau has already decided" in result.skipped[0].message
    fresh = StudyRecord.objects.get(pk=own.pk)
    assert (fresh.status, fresh.source, fresh.score) == ("rejected", "self", None)
    assert fresh.verified_by == world.bureau
    assert fresh.rejection_reason == "证书与课程不符"
    report = result.report
    assert (report.status, report.skipped_count) == (ProviderReport.Status.IMPORTED, 1)
    # The provider downloads which rows were left unchanged, and why.
    text = as_user(world.provider_user).get(reverse("training:report_errors", args=[report.pk]))
    assert "the bureau has already decided" in text.content.decode()


def test_a_report_row_never_replaces_a_failed_attempt_the_bureau_verified(world):
    provider = world.provider_user.provider_staff.provider
    course = make_course(provider, "XX2026-704")
    record = _own_record(world.manager, course, assessment=StudyRecord.Assessment.FAILED)
    services.study_record_verify(actor=world.bureau, record=record)
    result = import_file(world, csv_bytes([row_for(world.manager, course, passed="合格")]))
    assert len(result.skipped) == 1
    record.refresh_from_db()
    assert record.assessment == StudyRecord.Assessment.FAILED


def test_a_pending_self_report_nobody_decided_is_still_replaced(world):
    provider = world.provider_user.provider_staff.provider
    course = make_course(provider, "XX2026-705")
    own = _own_record(world.manager, course)
    result = import_file(world, csv_bytes([row_for(world.manager, course)]))
    assert (result.updated, len(result.skipped)) == (1, 0)
    own.refresh_from_db()
    assert (own.status, own.source) == ("verified", "provider")


@pytest.fixture
def submitted_2026(world, django_capture_on_commit_callbacks):
    """The manager's 2026 filing, submitted (awaiting the firm)."""
    from registry import services as registry_services

    f.open_window(world.province, 2026)
    filing = registry_services.filing_start(actor=world.manager.user, year=2026)
    f.add_proofs(filing)
    with django_capture_on_commit_callbacks(execute=True):
        return registry_services.filing_submit(actor=world.manager.user, filing=filing)


def test_a_submitted_year_is_not_changed_by_a_report(world, submitted_2026):
    provider = world.provider_user.provider_staff.provider
    course = make_course(provider, "XX2026-706")
    other_course = make_course(provider, "XX2026-707")
    before = compliance_for(manager=world.manager, year=2026).hours_year

    result = import_file(
        world,
        csv_bytes([row_for(world.manager, course), row_for(world.other_manager, other_course)]),
    )

    assert result.ok, result.errors
    assert result.created == 1  # the other manager's year is open
    assert [(s.row, s.column) for s in result.skipped] == [(2, "完成日期")]
    assert "filing for 2026 has been submitted" in result.skipped[0].message
    assert not StudyRecord.objects.filter(manager=world.manager).exists()
    assert compliance_for(manager=world.manager, year=2026).hours_year == before


def test_a_report_of_another_year_leaves_the_submitted_years_record_alone(world, submitted_2026):
    provider = world.provider_user.provider_staff.provider
    course = make_course(provider, "XX2026-708", start=dt.date(2025, 1, 1))
    own = _own_record(world.manager, course)  # of 2026, a submitted year
    # The provider reports the course as done in 2025 (an open year): a course counts once per
    # year, so that is a record of 2025 of its own; the 2026 record stays as it was.
    result = import_file(world, csv_bytes([row_for(world.manager, course, dt.date(2025, 12, 20))]))
    assert result.ok, result.errors
    assert not result.skipped
    own.refresh_from_db()
    assert (own.completed_on, own.source) == (dt.date(2026, 3, 10), "self")
    assert (result.created, result.updated) == (1, 0)
    assert StudyRecord.objects.get(manager=world.manager, completed_on__year=2025).course == course


# --- the reader stops at the limit ---------------------------------------------------------------


def test_a_file_of_max_rows_plus_one_stops_early_with_a_clear_message(world, settings):
    settings.PROVIDER_REPORT_MAX_ROWS = 20
    provider = world.provider_user.provider_staff.provider
    course = make_course(provider, "XX2026-709")
    managers = f.bulk_managers(21, "限", jurisdiction=world.county)
    content = csv_bytes([row_for(m, course) for m in managers])
    # After the 21st row, a line no CSV reader accepts (a field of 200,000 characters): reading
    # it would fail, so the answer proves that the reader stopped before.
    content += ('"' + "长" * 200_000 + '",x\r\n').encode()

    with pytest.raises(DomainError) as exc:
        import_file(world, content)

    assert exc.value.code == "rows"
    assert exc.value.messages == ["A file can hold at most 20 rows."]
    assert ProviderReport.objects.count() == StudyRecord.objects.count() == 0


def test_a_file_of_exactly_max_rows_imports(world, settings):
    settings.PROVIDER_REPORT_MAX_ROWS = 20
    provider = world.provider_user.provider_staff.provider
    course = make_course(provider, "XX2026-710")
    managers = f.bulk_managers(20, "满", jurisdiction=world.county)
    result = import_file(world, csv_bytes([row_for(m, course) for m in managers]))
    assert result.created == 20


def test_an_unreadable_line_within_the_limit_is_a_clear_error_not_a_crash(world):
    content = csv_bytes([]) + ('"' + "长" * 200_000 + '",x\r\n').encode()
    with pytest.raises(DomainError) as exc:
        import_file(world, content)
    assert exc.value.code == "unreadable"


def test_an_xlsx_of_max_rows_plus_one_is_refused(world, settings):
    settings.PROVIDER_REPORT_MAX_ROWS = 5
    provider = world.provider_user.provider_staff.provider
    course = make_course(provider, "XX2026-711")
    rows = [row_for(m, course) for m in f.bulk_managers(30, "表")]
    with pytest.raises(DomainError) as exc:
        import_file(world, xlsx_bytes(rows), "big.xlsx")
    assert exc.value.code == "rows"


# --- a large file goes to the worker -----------------------------------------------------------------


def _upload(client, content, name="large.csv"):
    return client.post(
        DASHBOARD, {"file": SimpleUploadedFile(name, content, content_type="text/csv")}
    )


def test_a_large_file_is_imported_by_the_task_with_its_progress_on_the_page(
    world, settings, as_user, django_capture_on_commit_callbacks
):
    settings.PROVIDER_REPORT_BACKGROUND_ROWS = 5
    provider = world.provider_user.provider_staff.provider
    course = make_course(provider, "XX2026-712")
    managers = f.bulk_managers(8, "大", jurisdiction=world.county)
    client = english(as_user(world.provider_user))

    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = _upload(client, csv_bytes([row_for(m, course) for m in managers]))
    assert response.status_code == 302
    # Nothing imported in the request: the report waits for the worker, with its file.
    report = ProviderReport.objects.get()
    assert (report.status, report.row_count, report.rows_done) == ("queued", 8, 0)
    assert report.content and StudyRecord.objects.count() == 0
    assert len(queued) == 1  # the task, queued for after the commit

    page = client.get(DASHBOARD).content.decode()
    assert '<meta http-equiv="refresh"' in page
    assert "0 of 8 rows checked" in page and 'aria-valuenow="0"' in page
    # Halfway (as the worker writes it on the row), the page says so.
    ProviderReport.objects.filter(pk=report.pk).update(status="running", rows_done=4)
    page = client.get(DASHBOARD).content.decode()
    assert "4 of 8 rows checked" in page and re.search(r'style="width: 50%"', page)
    ProviderReport.objects.filter(pk=report.pk).update(status="queued", rows_done=0)

    queued[0]()  # the worker's turn (Celery in eager mode runs the task here)

    report.refresh_from_db()
    assert (report.status, report.rows_done, report.created_count) == ("imported", 8, 8)
    assert report.content is None  # the ID numbers in the file are not kept
    assert report.finished_at is not None
    assert StudyRecord.objects.filter(report=report, status="verified").count() == 8
    page = client.get(DASHBOARD).content.decode()
    assert '<meta http-equiv="refresh"' not in page

    # The task again (a retry, a second delivery): nothing more.
    process_provider_report.delay(report.pk)
    assert StudyRecord.objects.count() == 8


def test_a_large_file_with_a_bad_row_is_rejected_by_the_task(
    world, settings, as_user, django_capture_on_commit_callbacks
):
    settings.PROVIDER_REPORT_BACKGROUND_ROWS = 5
    provider = world.provider_user.provider_staff.provider
    course = make_course(provider, "XX2026-713")
    rows = [row_for(m, course) for m in f.bulk_managers(8, "坏", jurisdiction=world.county)]
    rows[6].hours = "99"
    client = english(as_user(world.provider_user))
    with django_capture_on_commit_callbacks(execute=True):
        _upload(client, csv_bytes(rows))
    report = ProviderReport.objects.get()
    assert (report.status, report.error_count) == ("rejected", 1)
    assert StudyRecord.objects.count() == 0
    assert "at most 8.0 hours" in report.error_report
    assert report.content is None


def test_the_same_large_file_twice_while_queued_is_not_queued_again(
    world, settings, as_user, django_capture_on_commit_callbacks
):
    settings.PROVIDER_REPORT_BACKGROUND_ROWS = 5
    provider = world.provider_user.provider_staff.provider
    course = make_course(provider, "XX2026-714")
    content = csv_bytes([row_for(m, course) for m in f.bulk_managers(8, "重")])
    client = english(as_user(world.provider_user))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        _upload(client, content)
        response = _upload(client, content)
    assert len(queued) == 1 and ProviderReport.objects.count() == 1
    follow = client.get(response["Location"]).content.decode()
    assert "already being imported" in follow


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_large_file_goes_through_a_real_worker(world, settings, as_user):
    settings.PROVIDER_REPORT_BACKGROUND_ROWS = 50
    provider = world.provider_user.provider_staff.provider
    course = make_course(provider, "XX2026-715")
    managers = f.bulk_managers(600, "工", jurisdiction=world.county)
    result = import_as(
        world.provider_user, csv_bytes([row_for(m, course) for m in managers]), background_rows=50
    )
    assert result.queued and StudyRecord.objects.count() == 0
    report = result.report
    db = connection.settings_dict
    env = {
        "DATABASE_URL": (
            f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}"
            f"@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        )
    }
    with celery_worker(settings.REDIS_URL, env=env) as queue:
        process_provider_report.apply_async(args=[report.pk], queue=queue).get(timeout=90)
    report.refresh_from_db()
    assert (report.status, report.rows_done, report.created_count) == ("imported", 600, 600)
    assert StudyRecord.objects.filter(report=report, status="verified").count() == 600
    page = english(as_user(world.provider_user)).get(DASHBOARD).content.decode()
    assert '<meta http-equiv="refresh"' not in page


def test_rows_past_the_limit_are_refused_on_the_page(world, settings, as_user):
    settings.PROVIDER_REPORT_MAX_ROWS = 3
    provider = world.provider_user.provider_staff.provider
    course = make_course(provider, "XX2026-716")
    rows = [
        Row(m.id_number, m.real_name, course.code, "2026-03-15") for m in f.bulk_managers(4, "页")
    ]
    html = _upload(english(as_user(world.provider_user)), csv_bytes(rows)).content.decode()
    assert "A file can hold at most 3 rows." in html


def test_an_import_costs_as_many_queries_for_thirty_people_as_for_three(world):
    """Nothing is asked per row (the submitted years among them: one query for the file)."""
    provider = world.provider_user.provider_staff.provider
    course = make_course(provider, "QC2026-001")

    def queries_for(count: int, prefix: str) -> int:
        managers = f.bulk_managers(count, prefix, jurisdiction=world.county)
        with CaptureQueriesContext(connection) as captured:
            result = import_file(world, csv_bytes([row_for(m, course) for m in managers]))
        assert result.ok and result.created == count, result.errors
        return len(captured)

    queries_for(1, "qc-warm")  # what a process reads once (its caches)
    assert queries_for(30, "qc30") == queries_for(3, "qc3")
