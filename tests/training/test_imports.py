"""Bulk reports of course completions by training providers: real CSV and Excel files, all or
nothing, never twice, masked ID numbers in the error report, and who may upload and read what."""

import base64
import csv
import datetime as dt
import hashlib
import io
import random
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from accounts.validators import mask_id_number
from core.errors import DomainError
from tests import factories as f
from training.imports import provider_report_import
from training.models import Course, HoursRule, Provider, ProviderReport, StudyRecord
from training.selectors import compliance_for

ZH_HEADER = ["身份证号", "姓名", "课程编号", "完成日期", "学时", "考核结果", "成绩"]
EN_HEADER = ["ID number", "Name", "Course code", "Completion date", "Hours", "Passed", "Score"]
KEY_HEADER = ["id_number", "name", "course_code", "completed_on", "hours", "passed", "score"]

# A 1×1 transparent PNG: what a provider uploads when they pick the wrong file.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


# --- building real files -------------------------------------------------------------------------


@dataclass
class Row:
    id_number: str
    name: str
    course_code: str
    completed_on: object  # a date, or text as a provider typed it
    hours: object = "8"
    passed: str = "合格"
    score: object = ""

    def cells(self) -> list[str]:
        done = self.completed_on
        return [
            self.id_number,
            self.name,
            self.course_code,
            done.isoformat() if isinstance(done, dt.date) else str(done),
            str(self.hours),
            self.passed,
            str(self.score),
        ]


def csv_bytes(rows, header=ZH_HEADER, encoding="utf-8-sig", delimiter=",") -> bytes:
    """A CSV as Excel writes it: CRLF line ends; by default "CSV UTF-8" (with a BOM)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row.cells() if isinstance(row, Row) else row)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, header=ZH_HEADER) -> bytes:
    """A workbook with real date cells, numbers as numbers and the ID number as text."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "学时上报"
    sheet.append(header)
    for row in rows:
        sheet.append(
            [row.id_number, row.name, row.course_code, row.completed_on, row.hours, row.passed]
            + ([row.score] if row.score != "" else [])
        )
        sheet.cell(row=sheet.max_row, column=1).number_format = "@"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- the world of a provider ---------------------------------------------------------------------


@pytest.fixture
def provider(world):
    return world.provider_user.provider_staff.provider


def make_course(provider, code, hours="8.0", start=dt.date(2026, 1, 1)):
    return Course.objects.create(
        provider=provider,
        code=code,
        title=f"课程{code}",
        hours=Decimal(hours),
        mode=Course.Mode.ONLINE,
        category=Course.Category.LAW,
        start_date=start,
        end_date=dt.date(2026, 12, 31),
    )


@pytest.fixture
def course(provider):
    return make_course(provider, "XX2026-001")


def row_for(manager, course, completed_on=dt.date(2026, 3, 15), **kwargs) -> Row:
    return Row(manager.id_number, manager.real_name, course.code, completed_on, **kwargs)


def import_file(world, content, file_name="completions.csv"):
    # English messages, whatever gets translated later; the column names stay Chinese.
    with translation.override("en"):
        return provider_report_import(
            actor=world.provider_user, content=content, file_name=file_name
        )


def error_csv(client, report) -> list[list[str]]:
    response = client.get(reverse("training:report_errors", args=[report.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # so that Excel reads the Chinese correctly
    return list(csv.reader(io.StringIO(text[1:])))


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


# --- good files ----------------------------------------------------------------------------------


def test_good_csv_of_20_rows_imports_all_as_verified_provider_records(world, provider, course):
    HoursRule.objects.create(jurisdiction=world.province, year=2026, annual_minimum=24)
    second = make_course(provider, "XX2026-002", hours="16.0")
    # Managers of the county under the prefecture that approved the provider: their hours count
    # at once (a manager elsewhere waits for his bureau: tests/training/test_import_lane.py).
    managers = [world.manager, *f.bulk_managers(9, "甲", jurisdiction=world.county)]
    rows = [row_for(m, course, hours="8", score=90) for m in managers]
    rows += [row_for(m, second, dt.date(2026, 5, 20), hours="12.5", score="") for m in managers]
    content = csv_bytes(rows)

    result = import_file(world, content, "2026年3月结业.csv")

    assert result.ok, result.errors
    assert (result.created, result.updated, result.duplicates) == (20, 0, 0)
    report = ProviderReport.objects.get()
    assert result.report == report
    assert report.provider == provider
    assert report.uploaded_by == world.provider_user
    assert report.original_name == "2026年3月结业.csv"
    assert report.sha256 == hashlib.sha256(content).hexdigest()
    assert report.status == ProviderReport.Status.IMPORTED
    assert (report.row_count, report.created_count, report.duplicate_count) == (20, 20, 0)
    assert report.error_count == 0 and report.error_report == ""
    records = StudyRecord.objects.filter(report=report)
    assert records.count() == StudyRecord.objects.count() == 20
    assert set(records.values_list("status", "source", "assessment")) == {
        (StudyRecord.Status.VERIFIED, StudyRecord.Source.PROVIDER, StudyRecord.Assessment.PASSED)
    }
    assert not records.filter(verified_at__isnull=True).exists()
    mine = {r.course_id: r for r in records.filter(manager=world.manager)}
    assert mine[course.pk].completed_on == dt.date(2026, 3, 15)
    assert mine[course.pk].hours == Decimal("8.0")
    assert mine[course.pk].score == Decimal("90")
    assert mine[second.pk].hours == Decimal("12.5")
    assert mine[second.pk].score is None
    # Reported hours count at once.
    compliance = compliance_for(manager=world.manager, year=2026)
    assert compliance.hours_year == Decimal("20.5")
    assert compliance.hours_needed == Decimal("3.5")


@pytest.mark.parametrize(
    "header",
    [ZH_HEADER, EN_HEADER, KEY_HEADER, [h.upper() + " " for h in EN_HEADER]],
    ids=["chinese", "english", "keys", "english-upper-case-padded"],
)
def test_chinese_and_english_headers_both_work(world, course, header):
    managers = f.bulk_managers(3, "乙")
    result = import_file(world, csv_bytes([row_for(m, course) for m in managers], header=header))
    assert result.ok, result.errors
    assert result.created == 3
    assert set(StudyRecord.objects.values_list("manager_id", flat=True)) == {m.pk for m in managers}


def test_columns_may_come_in_any_order_and_score_may_be_left_out(world, course):
    managers = f.bulk_managers(2, "丙")
    order = [3, 0, 5, 2, 1, 4]  # date, ID, passed, code, name, hours
    header = [EN_HEADER[i] for i in order]
    rows = [[row_for(m, course, hours="6").cells()[i] for i in order] for m in managers]
    result = import_file(world, csv_bytes(rows, header=header))
    assert result.ok, result.errors
    assert sorted(StudyRecord.objects.values_list("hours", flat=True)) == [Decimal("6.0")] * 2


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_csv_saved_in_gbk_or_gb18030_as_excel_does_in_china_imports(world, course, encoding):
    managers = [world.manager, *f.bulk_managers(4, "丁")]
    content = csv_bytes([row_for(m, course, passed="合格") for m in managers], encoding=encoding)
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")  # really not UTF-8
    result = import_file(world, content)
    assert result.ok, result.errors
    assert result.created == 5
    assert StudyRecord.objects.filter(manager=world.manager, course=course).exists()


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated_files_import(world, course, delimiter):
    managers = f.bulk_managers(3, "戊")
    result = import_file(
        world, csv_bytes([row_for(m, course) for m in managers], delimiter=delimiter)
    )
    assert result.ok, result.errors
    assert result.created == 3


def test_xlsx_with_real_date_cells_and_numbers_imports(world, provider, course):
    half = make_course(provider, "XX2026-003", hours="7.5")
    managers = [world.manager, *f.bulk_managers(3, "己")]
    rows = [
        Row(managers[0].id_number, managers[0].real_name, course.code, dt.date(2026, 4, 1), 8, "合格", 92),
        Row(managers[1].id_number, managers[1].real_name, course.code, dt.datetime(2026, 4, 2, 9, 30), 6, "合格", 88.5),
        Row(managers[2].id_number, managers[2].real_name, half.code, dt.date(2026, 4, 3), 7.5, "不合格", 45),
        Row(managers[3].id_number, managers[3].real_name, half.code, dt.date(2026, 4, 4), 7, "合格"),
    ]  # fmt: skip
    content = xlsx_bytes(rows)
    assert content[:4] == b"PK\x03\x04"

    result = import_file(world, content, "结业名单.xlsx")

    assert result.ok, result.errors
    assert result.created == 4
    got = {
        r.manager_id: (r.completed_on, r.hours, r.score, r.assessment)
        for r in StudyRecord.objects.all()
    }
    assert got == {
        managers[0].pk: (dt.date(2026, 4, 1), Decimal("8.0"), Decimal("92.0"), "passed"),
        managers[1].pk: (dt.date(2026, 4, 2), Decimal("6.0"), Decimal("88.5"), "passed"),
        managers[2].pk: (dt.date(2026, 4, 3), Decimal("7.5"), Decimal("45.0"), "failed"),
        managers[3].pk: (dt.date(2026, 4, 4), Decimal("7.0"), None, "passed"),
    }


def test_the_downloadable_template_has_the_columns_the_import_reads(world, as_user):
    from openpyxl import load_workbook

    response = as_user(world.provider_user).get(reverse("training:provider_template"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [c.value for c in sheet[1]] == ZH_HEADER


# --- one bad row in a thousand ---------------------------------------------------------------------

BAD_ROW_INDEX = 637  # the 638th data row: row 639 of the sheet, under the header
BAD_SHEET_ROW = BAD_ROW_INDEX + 2


def _wrong_check_digit(row: Row, course):
    wrong = next(c for c in "0123456789X" if c != row.id_number[-1])
    row.id_number = row.id_number[:17] + wrong
    return "身份证号", "does not match the others"


def _unknown_course(row: Row, course):
    row.course_code = "NOPE-404"
    return "课程编号", "No course with code NOPE-404"


def _too_many_hours(row: Row, course):
    row.hours = "8.5"
    return "学时", "at most 8.0 hours"


def _future_date(row: Row, course):
    row.completed_on = timezone.localdate() + dt.timedelta(days=1)
    return "完成日期", "cannot be in the future"


def _before_the_course_starts(row: Row, course):
    row.completed_on = course.start_date - dt.timedelta(days=1)
    return "完成日期", "before the course starts"


def _name_not_matching(row: Row, course):
    # The same answer as an unknown ID number (tests/accounts/test_identity_oracles.py).
    row.name = "张冒名"
    return "身份证号", "No registered manager has this ID number and name"


def _same_person_and_course_twice(row: Row, course):
    return "课程编号", "already appear in row"  # filled in by the test: a copy of another row


@pytest.mark.parametrize(
    "spoil",
    [
        _wrong_check_digit,
        _unknown_course,
        _too_many_hours,
        _future_date,
        _before_the_course_starts,
        _name_not_matching,
        _same_person_and_course_twice,
    ],
    ids=lambda fn: fn.__name__.strip("_"),
)
def test_one_bad_row_among_1000_saves_nothing_and_the_error_report_names_it(
    world, provider, as_user, spoil
):
    courses = [make_course(provider, f"XX2026-1{i:02d}") for i in range(5)]
    managers = f.bulk_managers(200, "庚")
    rows = [
        row_for(m, c, dt.date(2026, 2, 1) + dt.timedelta(days=i % 200), score=80 + i % 20)
        for i, (m, c) in enumerate((m, c) for m in managers for c in courses)
    ]
    assert len(rows) == 1000
    bad = rows[BAD_ROW_INDEX]
    column, problem = spoil(bad, courses[0])
    if spoil is _same_person_and_course_twice:
        rows[BAD_ROW_INDEX] = bad = Row(*rows[3].cells())
        problem = "already appear in row 5"

    result = import_file(world, csv_bytes(rows), "bad.csv")

    assert not result.ok
    assert StudyRecord.objects.count() == 0
    assert [(e.row, e.column) for e in result.errors] == [(BAD_SHEET_ROW, column)]
    report = ProviderReport.objects.get()
    assert result.report == report
    assert report.status == ProviderReport.Status.REJECTED
    assert (report.error_count, report.row_count, report.created_count) == (1, 1000, 0)

    lines = error_csv(as_user(world.provider_user), report)
    assert lines[0] == ["行号", "身份证号", "列", "问题"]
    assert len(lines) == 2
    row_number, masked, err_column, message = lines[1]
    assert row_number == str(BAD_SHEET_ROW)
    assert err_column == column
    assert problem in message
    assert masked == mask_id_number(bad.id_number)
    assert "********" in masked
    body = "\n".join(",".join(line) for line in lines)
    assert bad.id_number not in body
    assert not any(m.id_number in body for m in managers)


def test_every_bad_row_is_reported_not_only_the_first(world, course):
    managers = f.bulk_managers(4, "辛")
    rows = [row_for(m, course) for m in managers]
    rows[1].hours = "0"
    rows[2].passed = "也许"
    rows[2].score = "101"
    rows[3].completed_on = "15/03/2026"
    result = import_file(world, csv_bytes(rows))
    assert sorted((e.row, e.column) for e in result.errors) == [
        (3, "学时"),
        (4, "成绩"),
        (4, "考核结果"),
        (5, "完成日期"),
    ]
    assert result.report.error_count == 3
    assert StudyRecord.objects.count() == 0


def test_a_rejected_file_through_the_page_shows_the_problems_and_links_the_report(
    world, course, as_user
):
    managers = f.bulk_managers(3, "壬")
    rows = [row_for(m, course) for m in managers]
    rows[2].course_code = "NOPE-1"
    client = english(as_user(world.provider_user))
    response = client.post(
        reverse("training:provider_dashboard"),
        {"file": SimpleUploadedFile("bad.csv", csv_bytes(rows), content_type="text/csv")},
    )
    assert response.status_code == 200
    page = response.content.decode()
    report = ProviderReport.objects.get()
    assert report.status == ProviderReport.Status.REJECTED
    assert "Nothing was saved" in page
    assert reverse("training:report_errors", args=[report.pk]) in page
    assert "No course with code NOPE-1" in page
    assert StudyRecord.objects.count() == 0


# --- never twice -----------------------------------------------------------------------------------


def test_the_same_file_imported_twice_adds_nothing_the_second_time(world, course):
    managers = f.bulk_managers(5, "癸")
    content = csv_bytes([row_for(m, course) for m in managers])
    first = import_file(world, content)
    assert first.created == 5

    second = import_file(world, content, "renamed-copy.csv")

    assert second.already_imported == first.report
    assert second.report is None
    assert not second.ok
    assert second.created == 0
    assert StudyRecord.objects.count() == 5
    assert ProviderReport.objects.count() == 1


def test_the_same_file_uploaded_twice_through_the_page_says_already_imported(
    world, course, as_user
):
    managers = f.bulk_managers(5, "子")
    content = csv_bytes([row_for(m, course) for m in managers])
    client = english(as_user(world.provider_user))
    url = reverse("training:provider_dashboard")

    def upload():
        return client.post(
            url,
            {"file": SimpleUploadedFile("a.csv", content, content_type="text/csv")},
            follow=True,
        )

    first = upload()
    assert first.redirect_chain == [(url, 302)]
    assert "Imported: 5 new records, 0 updated, 0 already recorded." in first.content.decode()
    assert StudyRecord.objects.count() == 5

    second = upload()
    assert second.redirect_chain == [(url, 302)]
    assert "already imported" in second.content.decode()
    assert "nothing was added" in second.content.decode()
    assert StudyRecord.objects.count() == 5
    assert ProviderReport.objects.count() == 1


def test_a_different_file_with_rows_already_recorded_counts_them_as_duplicates(world, course):
    managers = f.bulk_managers(8, "丑")
    first = import_file(world, csv_bytes([row_for(m, course) for m in managers[:5]]))
    assert first.created == 5

    # Three new people and the five already reported, in another order and with other scores.
    rows = [row_for(m, course, score=75) for m in reversed(managers)]
    second = import_file(world, csv_bytes(rows), "again.csv")

    assert second.ok, second.errors
    assert (second.created, second.updated, second.duplicates) == (3, 0, 5)
    assert (second.report.created_count, second.report.duplicate_count) == (3, 5)
    assert StudyRecord.objects.count() == 8
    assert StudyRecord.objects.filter(report=first.report).count() == 5
    assert StudyRecord.objects.filter(report=first.report, score__isnull=False).count() == 0
    assert StudyRecord.objects.filter(report=second.report).count() == 3


def test_a_passed_retake_replaces_the_failed_record_instead_of_adding_one(world, course):
    HoursRule.objects.create(jurisdiction=world.province, year=2026, annual_minimum=8)
    failed = import_file(
        world,
        csv_bytes([row_for(world.manager, course, dt.date(2026, 3, 1), passed="不合格", score=40)]),
    )
    assert failed.created == 1
    assert not compliance_for(manager=world.manager, year=2026).compliant

    retake = import_file(
        world,
        csv_bytes([row_for(world.manager, course, dt.date(2026, 6, 1), passed="合格", score=85)]),
    )

    assert retake.ok, retake.errors
    assert (retake.created, retake.updated, retake.duplicates) == (0, 1, 0)
    record = StudyRecord.objects.get(manager=world.manager, course=course)
    assert record.assessment == StudyRecord.Assessment.PASSED
    assert record.score == Decimal("85")
    assert record.completed_on == dt.date(2026, 6, 1)
    assert record.status == StudyRecord.Status.VERIFIED
    assert record.report == retake.report
    assert compliance_for(manager=world.manager, year=2026).compliant


def test_a_failed_attempt_reported_after_a_pass_does_not_undo_the_pass(world, course):
    import_file(world, csv_bytes([row_for(world.manager, course, passed="合格")]))
    later = import_file(
        world, csv_bytes([row_for(world.manager, course, dt.date(2026, 7, 1), passed="不合格")])
    )
    assert (later.created, later.updated, later.duplicates) == (0, 0, 1)
    record = StudyRecord.objects.get()
    assert record.assessment == StudyRecord.Assessment.PASSED


# --- files that are not a report -------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["完成日期", "身份证号", "考核结果"])
def test_a_header_missing_a_required_column_names_the_column(world, course, missing):
    drop = ZH_HEADER.index(missing)
    header = [h for i, h in enumerate(ZH_HEADER) if i != drop]
    row = [c for i, c in enumerate(row_for(world.manager, course).cells()) if i != drop]
    with pytest.raises(DomainError) as exc:
        import_file(world, csv_bytes([row], header=header))
    assert exc.value.code == "header"
    assert missing in exc.value.messages[0]
    assert ProviderReport.objects.count() == 0
    assert StudyRecord.objects.count() == 0


def test_a_file_without_a_header_row_is_refused(world, course):
    content = "\n".join(",".join(row_for(world.manager, course).cells()) for _ in range(2))
    with pytest.raises(DomainError) as exc:
        import_file(world, content.encode())
    assert exc.value.code == "header"


@pytest.mark.parametrize(
    "content",
    [b"", b"  \r\n\r\n", "\ufeff".encode(), b",,,,,,\r\n,,,\r\n"],
    ids=["nothing", "blank-lines", "bom-only", "empty-cells"],
)
def test_an_empty_file_is_refused(world, content):
    with pytest.raises(DomainError) as exc:
        import_file(world, content)
    assert exc.value.code == "empty"
    assert ProviderReport.objects.count() == 0


def test_a_header_only_file_adds_nothing(world, course):
    result = import_file(world, csv_bytes([]))
    assert result.created == 0
    assert StudyRecord.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (PNG, "neither an Excel workbook nor a readable CSV file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "neither an Excel workbook"),  # .xls
        (random.Random(0).randbytes(4096), "neither an Excel workbook"),
        (b"PK\x03\x04" + b"not really a zip" * 20, "Excel file could not be read"),
    ],
    ids=["png", "old-xls", "random-bytes", "broken-zip"],
)
def test_a_binary_or_garbage_file_gives_a_clear_error(world, content, message):
    with pytest.raises(DomainError) as exc:
        import_file(world, content, "photo.png")
    assert exc.value.code == "unreadable"
    assert message in exc.value.messages[0]
    assert ProviderReport.objects.count() == 0


def test_a_garbage_upload_through_the_page_shows_the_error_on_the_form(world, as_user):
    client = english(as_user(world.provider_user))
    response = client.post(
        reverse("training:provider_dashboard"),
        {"file": SimpleUploadedFile("photo.png", PNG, content_type="image/png")},
    )
    assert response.status_code == 200
    assert "neither an Excel workbook nor a readable CSV file" in response.content.decode()
    assert ProviderReport.objects.count() == 0


# --- who may -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Provider.Status.SUSPENDED, Provider.Status.PENDING])
def test_a_provider_that_is_not_approved_is_refused(world, provider, course, status):
    Provider.objects.filter(pk=provider.pk).update(status=status)
    with pytest.raises(DomainError) as exc:
        import_file(world, csv_bytes([row_for(world.manager, course)]))
    assert exc.value.code == "not_approved"
    assert StudyRecord.objects.count() == 0
    assert ProviderReport.objects.count() == 0


def test_only_provider_staff_may_call_the_import(world, course):
    with pytest.raises(PermissionDenied):
        provider_report_import(
            actor=world.reviewer,
            content=csv_bytes([row_for(world.manager, course)]),
            file_name="x.csv",
        )


@pytest.mark.parametrize("who", ["manager", "reviewer", "bureau"])
def test_other_roles_posting_to_the_provider_page_get_403(world, course, as_user, who):
    user = {
        "manager": world.manager.user,
        "reviewer": world.reviewer,
        "bureau": world.prefecture_bureau,
    }[who]
    content = csv_bytes([row_for(world.manager, course)])
    response = as_user(user).post(
        reverse("training:provider_dashboard"),
        {"file": SimpleUploadedFile("a.csv", content, content_type="text/csv")},
    )
    assert response.status_code == 403
    assert StudyRecord.objects.count() == 0
    assert ProviderReport.objects.count() == 0


def test_another_provider_cannot_download_this_providers_error_report(world, course, as_user):
    row = row_for(world.manager, course, hours="99")
    report = import_file(world, csv_bytes([row])).report
    assert report.status == ProviderReport.Status.REJECTED

    other = f.ProviderStaffFactory(provider__jurisdiction=world.prefecture).user
    url = reverse("training:report_errors", args=[report.pk])
    assert as_user(other).get(url).status_code == 404
    assert as_user(world.reviewer).get(url).status_code == 403
    assert as_user(world.manager.user).get(url).status_code == 403
    # The bureau that approved the provider may read it; a county bureau below it may not.
    assert as_user(world.prefecture_bureau).get(url).status_code == 200
    assert as_user(world.bureau).get(url).status_code == 404
    assert as_user(world.provider_user).get(url).status_code == 200


# --- bugs found while writing these tests, now fixed ---------------------------------------------------------------


def test_row_numbers_in_the_error_report_match_the_sheet_after_a_blank_line(world, course):
    managers = f.bulk_managers(3, "寅")
    rows = [row_for(m, course).cells() for m in managers]
    rows[2][2] = "NOPE-7"
    rows.insert(1, [""] * 7)  # a blank line at sheet row 3; the bad row is sheet row 5
    result = import_file(world, csv_bytes(rows))
    assert [e.row for e in result.errors] == [5]


def test_hours_that_round_to_zero_are_a_row_error_not_a_crash(world, course):
    result = import_file(world, csv_bytes([row_for(world.manager, course, hours="0.04")]))
    assert [e.column for e in result.errors] == ["学时"]
    assert StudyRecord.objects.count() == 0


@pytest.mark.parametrize("status", [StudyRecord.Status.PENDING, StudyRecord.Status.REJECTED])
def test_a_provider_report_is_not_lost_behind_a_self_report_that_does_not_count(
    world, course, status
):
    own = StudyRecord.objects.create(
        manager=world.manager,
        course=course,
        completed_on=dt.date(2026, 3, 10),
        hours=Decimal("8"),
        assessment=StudyRecord.Assessment.PASSED,
        source=StudyRecord.Source.SELF,
        status=status,
    )
    result = import_file(world, csv_bytes([row_for(world.manager, course)]))
    own.refresh_from_db()
    # Either the provider's report makes the course count, or the provider is told why not.
    assert own.counts or result.errors


# --- a yearly course taken again -------------------------------------------------------------------


def test_the_same_course_reported_in_2025_and_2026_counts_in_both_years(
    world, provider, time_machine
):
    time_machine.move_to(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC))
    yearly = make_course(provider, "YEARLY-1", start=dt.date(2025, 1, 1))
    HoursRule.objects.create(jurisdiction=world.province, year=2025, annual_minimum=8)
    HoursRule.objects.create(jurisdiction=world.province, year=2026, annual_minimum=8)
    manager = world.manager
    first = import_file(world, csv_bytes([row_for(manager, yearly, dt.date(2025, 5, 10))]))
    second = import_file(
        world, csv_bytes([row_for(manager, yearly, dt.date(2026, 5, 12))]), "next-year.csv"
    )

    assert (first.created, second.created, second.duplicates) == (1, 1, 0)
    assert StudyRecord.objects.filter(manager=manager, course=yearly).count() == 2
    assert compliance_for(manager=manager, year=2025).compliant
    assert compliance_for(manager=manager, year=2026).compliant


def test_a_report_of_two_years_imported_twice_adds_nothing_the_second_time(
    world, provider, time_machine
):
    time_machine.move_to(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC))
    yearly = make_course(provider, "YEARLY-2", start=dt.date(2025, 1, 1))
    manager = world.manager
    rows = [
        row_for(manager, yearly, dt.date(2025, 5, 10)),
        row_for(manager, yearly, dt.date(2026, 5, 12)),
    ]
    first = import_file(world, csv_bytes(rows))
    # The same completions in another file (another order): recognised, nothing added.
    again = import_file(world, csv_bytes(list(reversed(rows))), "again.csv")

    assert first.created == 2
    assert (again.created, again.updated, again.duplicates) == (0, 0, 2)
    assert StudyRecord.objects.filter(manager=manager, course=yearly).count() == 2


def test_the_same_course_twice_in_one_year_in_one_file_is_refused(world, provider, time_machine):
    time_machine.move_to(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC))
    yearly = make_course(provider, "YEARLY-3", start=dt.date(2025, 1, 1))
    manager = world.manager
    rows = [
        row_for(manager, yearly, dt.date(2026, 3, 10)),
        row_for(manager, yearly, dt.date(2026, 5, 12)),
    ]
    result = import_file(world, csv_bytes(rows))

    assert not result.ok
    assert "already appear in row 2" in " ".join(str(e.message) for e in result.errors)
    assert not StudyRecord.objects.exists()
