"""Bulk reports of course completions from training providers (CSV or Excel).

All or nothing: every row is checked before anything is saved; a file with any bad row saves no
record and yields a report of each bad row and why. Importing the same file twice adds nothing.
Queries do not grow with the number of rows (one lookup per kind of object, one bulk insert).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import ManagerProfile, User
from accounts.roles import Role, roles_of
from accounts.services import id_number_hash
from accounts.validators import mask_id_number, normalize_id_number, validate_id_number
from core.errors import DomainError
from core.exports import csv_text

from .models import Course, Provider, ProviderReport, StudyRecord
from .services import study_record_rule_errors

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
TOO_LARGE = gettext_lazy("The file is larger than 10 MB. Split it into several files.")

#: Columns of the template, in order: key, Chinese header, English header.
COLUMNS = [
    ("id_number", "身份证号", "ID number"),
    ("name", "姓名", "Name"),
    ("course_code", "课程编号", "Course code"),
    ("completed_on", "完成日期", "Completion date"),
    ("hours", "学时", "Hours"),
    ("passed", "考核结果", "Passed"),
    ("score", "成绩", "Score"),
]
REQUIRED = {"id_number", "name", "course_code", "completed_on", "hours", "passed"}
_HEADER_KEYS = {h.strip().lower(): key for key, zh, en in COLUMNS for h in (zh, en, key)}
_PASSED = {"合格", "通过", "是", "passed", "pass", "yes", "y", "true", "1"}
_FAILED = {"不合格", "未通过", "否", "failed", "fail", "no", "n", "false", "0"}


#: The column of the sheet that a rule of `training.services` speaks of.
_RULE_COLUMNS = {"hours": "学时", "completed_on": "完成日期"}


@dataclass
class RowError:
    row: int
    column: str
    message: str
    id_masked: str = ""


@dataclass
class ImportResult:
    report: ProviderReport | None
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    duplicates: int = 0
    already_imported: ProviderReport | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.already_imported is None


# --- reading -----------------------------------------------------------------------------------


def _read_rows(content: bytes) -> list[list[str]]:
    """Rows of a CSV (UTF-8 with or without BOM, or GB18030 as Excel saves it in China) or of
    the first sheet of an .xlsx file, as lists of strings."""
    if content[:4] == b"PK\x03\x04":
        return _read_xlsx(content)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DomainError(
            gettext_lazy("The file is neither an Excel workbook nor a readable CSV file."),
            code="unreadable",
        )
    if "\x00" in text:
        raise DomainError(
            gettext_lazy("The file is neither an Excel workbook nor a readable CSV file."),
            code="unreadable",
        )
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [row for row in csv.reader(io.StringIO(text), dialect)]


def _read_xlsx(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any parse failure is "not a workbook"
        raise DomainError(
            gettext_lazy("The Excel file could not be read. Save it again as .xlsx or CSV."),
            code="unreadable",
        ) from exc
    sheet = workbook.worksheets[0]
    rows = []
    for values in sheet.iter_rows(values_only=True):
        rows.append(["" if v is None else _cell(v) for v in values])
    workbook.close()
    return rows


def _cell(value) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _parse_date(value: str) -> dt.date | None:
    value = value.strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def _parse_decimal(value: str) -> Decimal | None:
    try:
        number = Decimal(value.strip())
    except (InvalidOperation, AttributeError):
        return None
    return number if number.is_finite() else None


# --- the import --------------------------------------------------------------------------------


def provider_report_import(*, actor: User, content: bytes, file_name: str) -> ImportResult:
    """Import a provider's completions file for the actor's provider."""
    roles = roles_of(actor)
    if roles.role != Role.PROVIDER:
        raise PermissionDenied
    provider = roles.provider_staff.provider
    if provider.status != Provider.Status.APPROVED:
        raise DomainError(
            gettext_lazy("Your institution is not approved (or its approval is suspended)."),
            code="not_approved",
        )
    if len(content) > MAX_BYTES:
        raise DomainError(TOO_LARGE, code="size")
    if not content.strip():
        raise DomainError(gettext_lazy("The file is empty."), code="empty")
    digest = hashlib.sha256(content).hexdigest()

    with transaction.atomic():
        # One import per provider at a time: a double click or two tabs wait for each other.
        Provider.objects.select_for_update().get(pk=provider.pk)
        earlier = ProviderReport.objects.filter(
            provider=provider, sha256=digest, status=ProviderReport.Status.IMPORTED
        ).first()
        if earlier is not None:
            return ImportResult(report=None, already_imported=earlier)

        rows = _read_rows(content)
        result = _check_and_build(provider=provider, rows=rows)
        report = ProviderReport(
            provider=provider,
            uploaded_by=actor,
            original_name=file_name[:255],
            sha256=digest,
            row_count=result["row_count"],
        )
        errors = result["errors"]
        if errors:
            report.status = ProviderReport.Status.REJECTED
            report.error_count = len({e.row for e in errors})
            report.error_report = errors_as_csv(errors)
            report.save()
            return ImportResult(report=report, errors=errors)

        report.status = ProviderReport.Status.IMPORTED
        report.created_count = len(result["new"])
        report.duplicate_count = result["duplicates"]
        report.save()
        now = timezone.now()
        for record in result["new"]:
            record.report = report
            record.verified_at = now
        StudyRecord.objects.bulk_create(result["new"], batch_size=2000)
        for record in result["updates"]:
            record.report = report
            record.verified_at = now
        StudyRecord.objects.bulk_update(
            result["updates"],
            [
                "hours",
                "completed_on",
                "assessment",
                "score",
                "status",
                "source",
                "report",
                "verified_at",
                "rejection_reason",
            ],
            batch_size=2000,
        )
    return ImportResult(
        report=report,
        created=len(result["new"]),
        updated=len(result["updates"]),
        duplicates=result["duplicates"],
    )


def _check_and_build(*, provider: Provider, rows: list[list[str]]) -> dict:
    errors: list[RowError] = []
    # Keep each row's number in the sheet (1-based) so that reports point at the right line,
    # blank lines included.
    numbered = [(n, r) for n, r in enumerate(rows, start=1) if any(cell.strip() for cell in r)]
    if not numbered:
        raise DomainError(gettext_lazy("The file has no rows."), code="empty")
    header = [_HEADER_KEYS.get(cell.strip().lower()) for cell in numbered[0][1]]
    missing = [zh for key, zh, en in COLUMNS if key in REQUIRED and key not in header]
    if missing:
        raise DomainError(
            gettext_lazy("The first row must name the columns; missing: %(columns)s.")
            % {"columns": "、".join(missing)},
            code="header",
        )
    body = numbered[1:]
    if len(body) > MAX_ROWS:
        raise DomainError(
            gettext_lazy("A file can hold at most %(max)s rows.") % {"max": f"{MAX_ROWS:,}"},
            code="rows",
        )
    index = {key: header.index(key) for key in header if key}

    def cell(row, key):
        i = index.get(key)
        return row[i].strip() if i is not None and i < len(row) else ""

    parsed = []
    hashes = set()
    codes = set()
    for n, row in body:
        raw_id = normalize_id_number(cell(row, "id_number"))
        masked = mask_id_number(raw_id)
        try:
            validate_id_number(raw_id)
        except ValidationError as exc:
            errors.append(RowError(n, "身份证号", exc.messages[0], masked))
            raw_id = ""
        digest = id_number_hash(raw_id) if raw_id else ""
        if digest:
            hashes.add(digest)
        code = cell(row, "course_code")
        codes.add(code)
        parsed.append((n, row, digest, masked, code))

    managers = {
        m.id_number_hash: m
        for m in ManagerProfile.objects.filter(id_number_hash__in=hashes).only(
            "pk", "real_name", "id_number_hash"
        )
    }
    courses = {c.code: c for c in Course.objects.filter(provider=provider, code__in=codes)}
    existing = {
        (r.manager_id, r.course_id): r
        for r in StudyRecord.objects.filter(
            course__in=courses.values(), manager__in=managers.values()
        )
    }
    seen: dict[tuple[int, int], int] = {}
    new: list[StudyRecord] = []
    updates: list[StudyRecord] = []
    duplicates = 0

    for n, row, digest, masked, code in parsed:
        row_errors: list[RowError] = []

        def err(column, message, n=n, masked=masked, row_errors=row_errors):
            row_errors.append(RowError(n, column, str(message), masked))

        manager = managers.get(digest) if digest else None
        if digest and manager is None:
            err("身份证号", _("No manager with this ID number is registered in the portal."))
        name = cell(row, "name")
        if not name:
            err("姓名", _("The name is missing."))
        elif manager is not None and name.replace(" ", "") != manager.real_name.replace(" ", ""):
            err("姓名", _("The name does not match the registered name for this ID number."))
        course = courses.get(code)
        if not code:
            err("课程编号", _("The course code is missing."))
        elif course is None:
            err(
                "课程编号",
                _("No course with code %(code)s belongs to your institution.") % {"code": code},
            )
        completed = _parse_date(cell(row, "completed_on"))
        if completed is None:
            err("完成日期", _("Write the date as YYYY-MM-DD."))
        hours = _parse_decimal(cell(row, "hours"))
        if hours is None:
            err("学时", _("Hours must be a number greater than zero."))  # unreadable
        # The same rules as a manager's own record, with the same messages.
        for rule_field, message in study_record_rule_errors(
            course=course, completed_on=completed, hours=hours
        ):
            err(_RULE_COLUMNS[rule_field], message)
        passed_text = cell(row, "passed").lower()
        if passed_text in _PASSED:
            passed = True
        elif passed_text in _FAILED:
            passed = False
        else:
            passed = None
            err("考核结果", _("Write 合格 (passed) or 不合格 (failed)."))
        score_text = cell(row, "score")
        score = None
        if score_text:
            score = _parse_decimal(score_text)
            if score is None or not (0 <= score <= 100):
                err("成绩", _("The score must be a number from 0 to 100."))
        if manager is not None and course is not None:
            key = (manager.pk, course.pk)
            if key in seen:
                err(
                    "课程编号",
                    _("The same person and course already appear in row %(row)s.")
                    % {"row": seen[key]},
                )
            else:
                seen[key] = n
        if row_errors:
            errors.extend(row_errors)
            continue
        if errors:
            continue  # the file is rejected anyway; keep checking rows, build nothing
        assessment = StudyRecord.Assessment.PASSED if passed else StudyRecord.Assessment.FAILED
        current = existing.get((manager.pk, course.pk))
        if current is not None:
            replaces = (current.assessment == StudyRecord.Assessment.FAILED and passed) or (
                # The provider's verified report wins over the manager's own report of the same
                # course that does not count (yet): otherwise the hours could never count.
                current.source == StudyRecord.Source.SELF
                and current.status != StudyRecord.Status.VERIFIED
            )
            if replaces:
                # A passed retake replaces the failed attempt: the course still counts once.
                current.hours, current.completed_on = hours, completed
                current.assessment, current.score = assessment, score
                current.status = StudyRecord.Status.VERIFIED
                current.source = StudyRecord.Source.PROVIDER
                current.rejection_reason = ""
                updates.append(current)
            else:
                duplicates += 1
            continue
        new.append(
            StudyRecord(
                manager_id=manager.pk,
                course=course,
                completed_on=completed,
                hours=hours,
                assessment=assessment,
                score=score,
                source=StudyRecord.Source.PROVIDER,
                status=StudyRecord.Status.VERIFIED,
            )
        )
    return {
        "errors": errors,
        "new": new,
        "updates": updates,
        "duplicates": duplicates,
        "row_count": len(body),
    }


def errors_as_csv(errors: list[RowError]) -> str:
    """The error report a provider downloads: one line per problem. ID numbers are masked."""
    return csv_text(
        ["行号", "身份证号", "列", "问题"],
        ([e.row, e.id_masked, e.column, e.message] for e in errors),
    )


def template_workbook() -> bytes:
    """The downloadable template: the columns with one example row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "学时上报"
    sheet.append([zh for _key, zh, _en in COLUMNS])
    for c in sheet[1]:
        c.font = Font(bold=True)
    sheet.append(["11010519491231002X", "张三", "XX2026-001", "2026-03-15", 8, "合格", 92])
    for column, width in zip("ABCDEFG", (22, 10, 14, 14, 8, 10, 8), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.column_dimensions["A"].number_format = "@"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
