"""Bulk reports of course completions from training providers (CSV or Excel).

All or nothing: every row is checked before anything is saved; a file with any bad row saves no
record and yields a report of each bad row and why. Importing the same file twice adds nothing.
Queries do not grow with the number of rows (one lookup per kind of object, one bulk insert),
except the check of the filed-year lock: once per manager and year that a row would change.

A provider stays in its lane:

- a row counts at once (verified) only for a manager under the jurisdiction that approved the
  provider (that jurisdiction and those below it); for a manager elsewhere, or of no
  jurisdiction yet, the record is created pending and waits for the manager's bureau to accept
  it: the manager keeps it, nobody gains hours silently;
- only completion dates inside the provider's approval period are accepted (an open end of the
  period is no limit on that side);
- a record the bureau decided (verified or rejected by an official: `verified_by` is set) is
  never replaced, nor is a record of a year whose filing is submitted: such a row is reported
  as left unchanged, and the rest of the file is imported;
- an ID number that no manager holds and one held under another name get one and the same
  answer, so that a report never tells who is registered.

The reader streams the rows and stops at the row limit (`PROVIDER_REPORT_MAX_ROWS`) instead of
reading the whole file first. A file of more rows than `PROVIDER_REPORT_BACKGROUND_ROWS` is kept
as a queued report and imported by the worker (`provider_report_process`, through
`training.reports`), which writes its progress on the report's row for the provider's page.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import identity
from accounts.models import IdentityLookup, ManagerProfile, User
from accounts.roles import Role, roles_of
from accounts.services import id_number_hash
from accounts.validators import mask_id_number, normalize_id_number, validate_id_number
from core.errors import DomainError
from core.exports import csv_text

from .models import Course, Provider, ProviderReport, StudyRecord
from .selectors import locked_study_years
from .services import study_record_rule_errors

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
#: The default of the setting PROVIDER_REPORT_MAX_ROWS, the most data rows a file may hold.
MAX_ROWS = 50_000
TOO_LARGE = gettext_lazy("The file is larger than 10 MB. Split it into several files.")
UNREADABLE = gettext_lazy("The file is neither an Excel workbook nor a readable CSV file.")
#: The one answer to an ID number and a name that are not a registered manager's, whichever of
#: the two is wrong.
NO_SUCH_MANAGER = gettext_lazy("No registered manager has this ID number and name.")
NOT_APPROVED = gettext_lazy("Your institution is not approved (or its approval is suspended).")
#: Columns read from a row: the template's seven, in any order, among other columns.
_MAX_COLUMNS = 32
#: The worker writes its progress on the report's row every this many rows.
_PROGRESS_EVERY = 200

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
    #: Of the records created or updated, those waiting for the manager's bureau.
    pending: int = 0
    #: Rows left unchanged: a record the bureau decided, or a year already filed.
    skipped: list[RowError] = field(default_factory=list)
    #: The file is large: kept as a queued report for the worker, nothing imported yet.
    queued: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors and self.already_imported is None


def max_rows() -> int:
    return settings.PROVIDER_REPORT_MAX_ROWS


def _too_many_rows() -> DomainError:
    return DomainError(
        gettext_lazy("A file can hold at most %(max)s rows.") % {"max": f"{max_rows():,}"},
        code="rows",
    )


# --- reading -----------------------------------------------------------------------------------


def _iter_rows(content: bytes) -> Iterator[list[str]]:
    """Rows of a CSV (UTF-8 with or without BOM, or GB18030 as Excel saves it in China) or of
    the first sheet of an .xlsx file, as lists of strings, one at a time."""
    if content[:4] == b"PK\x03\x04":
        yield from _iter_xlsx(content)
        return
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DomainError(UNREADABLE, code="unreadable")
    if "\x00" in text:
        raise DomainError(UNREADABLE, code="unreadable")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        for row in csv.reader(io.StringIO(text), dialect):
            yield row[:_MAX_COLUMNS]
    except csv.Error as exc:  # e.g. a field longer than the csv module accepts
        raise DomainError(UNREADABLE, code="unreadable") from exc


def _iter_xlsx(content: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    unreadable = DomainError(
        gettext_lazy("The Excel file could not be read. Save it again as .xlsx or CSV."),
        code="unreadable",
    )
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any parse failure is "not a workbook"
        raise unreadable from exc
    try:
        # read_only: the sheet's XML is parsed as the rows are asked for, not all at once.
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True, max_col=_MAX_COLUMNS):
            yield ["" if v is None else _cell(v) for v in values]
    except DomainError:
        raise
    except Exception as exc:  # noqa: BLE001 - a broken sheet part is "not a workbook" too
        raise unreadable from exc
    finally:
        workbook.close()


def _read_rows(content: bytes) -> list[tuple[int, list[str]]]:
    """The non-blank rows of the file, the header first, each with its row number in the sheet
    (1-based, blank lines counted, so that reports point at the right line).

    Stops as soon as the file proves too long: at the first data row past the limit, or after
    as many lines again of blank ones; it never reads the rest."""
    limit = max_rows()
    numbered: list[tuple[int, list[str]]] = []
    for n, row in enumerate(_iter_rows(content), start=1):
        if any(cell.strip() for cell in row):
            if len(numbered) > limit:  # the header and `limit` data rows are in already
                raise _too_many_rows()
            numbered.append((n, row))
        elif n > 2 * limit + 100:
            raise _too_many_rows()
    return numbered


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


def _header_index(
    numbered: list[tuple[int, list[str]]],
) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
    """Where each known column is, and the data rows under the header."""
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
    return {key: header.index(key) for key in header if key}, numbered[1:]


# --- the import --------------------------------------------------------------------------------


def provider_report_import(
    *, actor: User, content: bytes, file_name: str, background_rows: int | None = None
) -> ImportResult:
    """Import a provider's completions file for the actor's provider.

    With `background_rows`, a file of more data rows than that is not imported here: it is kept
    as a queued report (`result.queued`) for `provider_report_process`; the caller queues the
    worker after the commit (see `training.reports`)."""
    roles = roles_of(actor)
    if roles.role != Role.PROVIDER:
        raise PermissionDenied
    provider = roles.provider_staff.provider
    if provider.status != Provider.Status.APPROVED:
        raise DomainError(NOT_APPROVED, code="not_approved")
    if len(content) > MAX_BYTES:
        raise DomainError(TOO_LARGE, code="size")
    if not content.strip():
        raise DomainError(gettext_lazy("The file is empty."), code="empty")
    digest = hashlib.sha256(content).hexdigest()

    with transaction.atomic():
        # One import per provider at a time: a double click or two tabs wait for each other.
        provider = (
            Provider.objects.select_for_update(of=("self",))
            .select_related("jurisdiction")
            .get(pk=provider.pk)
        )
        earlier = ProviderReport.objects.filter(
            provider=provider,
            sha256=digest,
            status__in=[ProviderReport.Status.IMPORTED, *ProviderReport.IN_PROGRESS],
        ).first()
        if earlier is not None:
            return ImportResult(report=None, already_imported=earlier)
        # Each file is a batch of look-ups by ID number and name: limited per account.
        identity.lookup_allow(actor=actor, kind=IdentityLookup.Kind.PROVIDER_IMPORT)
        index, body = _header_index(_read_rows(content))
        report = ProviderReport(
            provider=provider,
            uploaded_by=actor,
            original_name=file_name[:255],
            sha256=digest,
            row_count=len(body),
        )
        if background_rows is not None and len(body) > background_rows:
            report.status = ProviderReport.Status.QUEUED
            report.content = content
            report.save()
            return ImportResult(report=report, queued=True)
        return _import(report=report, provider=provider, actor=actor, index=index, body=body)


#: A large report still queued this long after its upload lost its task (the broker was down
#: when it was published, or lost it): the sweep publishes it again.
STALE_QUEUED = dt.timedelta(minutes=2)


def provider_reports_stale(*, now: dt.datetime) -> list[int]:
    """Large reports queued for longer than `STALE_QUEUED` (for the sweep)."""
    return list(
        ProviderReport.objects.filter(
            status=ProviderReport.Status.QUEUED, created_at__lt=now - STALE_QUEUED
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def provider_report_process(*, report_id: int) -> None:
    """The worker's part: import a queued report, writing its progress on the report's row.

    Safe to run twice: the report is claimed by a conditional UPDATE (queued → running), so a
    second run, or a run of a report already done, does nothing."""
    claimed = ProviderReport.objects.filter(
        pk=report_id, status=ProviderReport.Status.QUEUED
    ).update(status=ProviderReport.Status.RUNNING, rows_done=0)
    if not claimed:
        return
    report = ProviderReport.objects.select_related("provider__jurisdiction", "uploaded_by").get(
        pk=report_id
    )

    def progress(done: int) -> None:
        # Committed at once (no transaction is open here): the provider's page reads it.
        ProviderReport.objects.filter(pk=report_id).update(rows_done=done)

    try:
        if report.provider.status != Provider.Status.APPROVED:
            raise DomainError(NOT_APPROVED, code="not_approved")
        index, body = _header_index(_read_rows(bytes(report.content or b"")))
        report.row_count = len(body)
        _import(
            report=report,
            provider=report.provider,
            actor=report.uploaded_by,
            index=index,
            body=body,
            progress=progress,
        )
    except DomainError as exc:
        _fail(report, exc.messages)
    except Exception:
        log.exception("provider report %s could not be imported", report_id)
        _fail(report, [_("The file could not be processed. Nothing was saved; try again later.")])
        raise


def _fail(report: ProviderReport, messages: list[str]) -> None:
    report.status = ProviderReport.Status.FAILED
    report.error_report = errors_as_csv([RowError(0, "", str(m)) for m in messages])
    report.content = None
    report.finished_at = timezone.now()
    report.save()


def _import(
    *,
    report: ProviderReport,
    provider: Provider,
    actor: User,
    index: dict[str, int],
    body: list[tuple[int, list[str]]],
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Check every row, record the look-ups, and save the report: rejected with its errors, or
    imported with the records, in one transaction."""
    checked = _check_rows(provider=provider, actor=actor, index=index, body=body, progress=progress)
    report.rows_done = report.row_count
    report.content = None  # read to the end: the ID numbers in it are not kept
    report.finished_at = timezone.now()
    if checked.errors:
        with transaction.atomic():
            IdentityLookup.objects.bulk_create(checked.lookups, batch_size=2000)
            report.status = ProviderReport.Status.REJECTED
            report.error_count = len({e.row for e in checked.errors})
            report.error_report = errors_as_csv(checked.errors)
            report.save()
        return ImportResult(report=report, errors=checked.errors)

    with transaction.atomic():
        IdentityLookup.objects.bulk_create(checked.lookups, batch_size=2000)
        # Decided under the provider's lock and with the records locked, so that a bureau's
        # decision made meanwhile is seen, never overwritten.
        Provider.objects.select_for_update().filter(pk=provider.pk).first()
        plan = _plan(provider=provider, rows=checked.rows)
        report.status = ProviderReport.Status.IMPORTED
        report.created_count = len(plan.new)
        report.updated_count = len(plan.updates)
        report.duplicate_count = plan.duplicates
        report.pending_count = plan.pending
        report.skipped_count = len(plan.skipped)
        # The rows left unchanged, and why, in the same downloadable list as errors.
        report.error_report = errors_as_csv(plan.skipped) if plan.skipped else ""
        report.save()
        for record in (*plan.new, *plan.updates):
            record.report = report
        StudyRecord.objects.bulk_create(plan.new, batch_size=2000)
        StudyRecord.objects.bulk_update(
            plan.updates,
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
        created=len(plan.new),
        updated=len(plan.updates),
        duplicates=plan.duplicates,
        pending=plan.pending,
        skipped=plan.skipped,
    )


@dataclass
class _Row:
    """A row that passed every check: what it says, with the manager and course it names."""

    row: int
    masked: str
    manager: ManagerProfile
    course: Course
    completed_on: dt.date
    hours: Decimal
    passed: bool
    score: Decimal | None


@dataclass
class _Checked:
    errors: list[RowError]
    rows: list[_Row]
    lookups: list[IdentityLookup]


def _in_approval_period(provider: Provider, day: dt.date) -> bool:
    return (provider.approved_from is None or provider.approved_from <= day) and (
        provider.approved_until is None or day <= provider.approved_until
    )


def _check_rows(
    *,
    provider: Provider,
    actor: User,
    index: dict[str, int],
    body: list[tuple[int, list[str]]],
    progress: Callable[[int], None] | None = None,
) -> _Checked:
    """Every rule that a row can break by itself or with the rest of the file. Reads only."""
    errors: list[RowError] = []

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
        parsed.append((n, row, raw_id, digest, masked, code))

    holders = {
        m.id_number_hash: m
        for m in ManagerProfile.objects.filter(id_number_hash__in=hashes)
        .select_related("jurisdiction")
        .only("pk", "real_name", "id_number_hash", "jurisdiction__path")
    }
    courses = {c.code: c for c in Course.objects.filter(provider=provider, code__in=codes)}
    seen: dict[tuple[int, int], int] = {}
    rows: list[_Row] = []
    lookups: list[IdentityLookup] = []
    period_start = provider.approved_from.isoformat() if provider.approved_from else "…"
    period_end = provider.approved_until.isoformat() if provider.approved_until else "…"

    for done, (n, row, raw_id, digest, masked, code) in enumerate(parsed, start=1):
        if progress is not None and done % _PROGRESS_EVERY == 0:
            progress(done)
        row_errors: list[RowError] = []

        def err(column, message, n=n, masked=masked, row_errors=row_errors):
            row_errors.append(RowError(n, column, str(message), masked))

        manager = None
        name = cell(row, "name")
        if not name:
            err("姓名", _("The name is missing."))
        elif digest:
            holder = holders.get(digest)
            matched = holder is not None and identity.names_match(name, holder.real_name)
            lookups.append(
                identity.lookup_entry(
                    actor=actor,
                    kind=IdentityLookup.Kind.PROVIDER_IMPORT,
                    id_number=raw_id,
                    digest=digest,
                    name=name,
                    holder=holder,
                    matched=matched,
                    jurisdiction=provider.jurisdiction,
                )
            )
            if matched:
                manager = holder
            else:
                # The same words and column whether the number is unknown or the name is not
                # the registered one.
                err("身份证号", NO_SUCH_MANAGER)
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
        elif not _in_approval_period(provider, completed):
            err(
                "完成日期",
                _(
                    "The completion date is outside your institution's approval period "
                    "(%(start)s to %(end)s)."
                )
                % {"start": period_start, "end": period_end},
            )
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
        if manager is not None and course is not None and completed is not None:
            key = (manager.pk, course.pk, completed.year)
            if key in seen:
                err(
                    "课程编号",
                    _("The same person and course in the same year already appear in row %(row)s.")
                    % {"row": seen[key]},
                )
            else:
                seen[key] = n
        if row_errors:
            errors.extend(row_errors)
            continue
        if errors:
            continue  # the file is rejected anyway; keep checking rows, build nothing
        rows.append(_Row(n, masked, manager, course, completed, hours, passed, score))
    if progress is not None:
        progress(len(parsed))
    return _Checked(errors=errors, rows=rows, lookups=lookups)


@dataclass
class _Plan:
    new: list[StudyRecord] = field(default_factory=list)
    updates: list[StudyRecord] = field(default_factory=list)
    duplicates: int = 0
    pending: int = 0
    skipped: list[RowError] = field(default_factory=list)


def _plan(*, provider: Provider, rows: list[_Row]) -> _Plan:
    """What the checked rows change, decided inside the import's transaction: new records,
    replaced ones, rows already recorded and rows left unchanged."""
    plan = _Plan()
    # A course counts once per manager and year (a yearly course taken again counts again):
    # a row matches the record of the same person, course and year of completion.
    existing = {
        (r.manager_id, r.course_id, r.completed_on.year): r
        for r in StudyRecord.objects.select_for_update().filter(
            manager_id__in={row.manager.pk for row in rows},
            course_id__in={row.course.pk for row in rows},
            completed_on__year__in={row.completed_on.year for row in rows},
        )
    }
    # The years frozen by a submitted filing (the lock of the manager's own edits), for every
    # row in one query: one query per row made a 10,000-row report take twice as long.
    filed = locked_study_years(
        manager_ids={row.manager.pk for row in rows},
        years={row.completed_on.year for row in rows}
        | {record.completed_on.year for record in existing.values()},
    )

    def year_filed(manager_id: int, year: int) -> bool:
        return (manager_id, year) in filed

    now = timezone.now()
    home = provider.jurisdiction.path
    for row in rows:
        manager = row.manager
        current = existing.get((manager.pk, row.course.pk, row.completed_on.year))
        if current is not None:
            replaces = (current.assessment == StudyRecord.Assessment.FAILED and row.passed) or (
                # The provider's report wins over the manager's own report of the same course
                # that does not count (yet): otherwise the hours could never count.
                current.source == StudyRecord.Source.SELF
                and current.status != StudyRecord.Status.VERIFIED
            )
            if not replaces:
                plan.duplicates += 1
                continue
            if current.verified_by_id is not None:
                plan.skipped.append(
                    RowError(
                        row.row,
                        "课程编号",
                        _(
                            "Left unchanged: the bureau has already decided on this person's "
                            "record of this course."
                        ),
                        row.masked,
                    )
                )
                continue
        years = {row.completed_on.year} | ({current.completed_on.year} if current else set())
        locked = sorted(year for year in years if year_filed(manager.pk, year))
        if locked:
            plan.skipped.append(
                RowError(
                    row.row,
                    "完成日期",
                    _(
                        "Left unchanged: this person's filing for %(year)s has been submitted, "
                        "so the records of that year are locked."
                    )
                    % {"year": locked[0]},
                    row.masked,
                )
            )
            continue
        # Verified at once only under the jurisdiction that approved the provider; elsewhere
        # the manager's bureau accepts it (or not).
        in_lane = manager.jurisdiction is not None and manager.jurisdiction.path.startswith(home)
        status = StudyRecord.Status.VERIFIED if in_lane else StudyRecord.Status.PENDING
        if not in_lane:
            plan.pending += 1
        assessment = StudyRecord.Assessment.PASSED if row.passed else StudyRecord.Assessment.FAILED
        if current is not None:
            # A passed retake replaces the failed attempt: the course still counts once.
            current.hours, current.completed_on = row.hours, row.completed_on
            current.assessment, current.score = assessment, row.score
            current.status = status
            current.source = StudyRecord.Source.PROVIDER
            current.verified_at = now if in_lane else None
            current.rejection_reason = ""
            plan.updates.append(current)
            continue
        plan.new.append(
            StudyRecord(
                manager_id=manager.pk,
                course=row.course,
                completed_on=row.completed_on,
                hours=row.hours,
                assessment=assessment,
                score=row.score,
                source=StudyRecord.Source.PROVIDER,
                status=status,
                verified_at=now if in_lane else None,
            )
        )
    return plan


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
