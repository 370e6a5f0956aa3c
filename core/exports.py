"""The one way the portal writes spreadsheets (.xlsx) and CSV files that people open in Excel.

Text in an export often comes from users (a manager's name, a course code typed into an
import). A spreadsheet program treats a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula, and a tab or carriage return at the start can shift the cell into one (CSV injection,
"formula injection"): a manager named ``=HYPERLINK("http://evil","点击")`` would become a live
link in the firm's export. Every export therefore goes through this module:

* :func:`inert` makes one value safe for CSV: risky text gets a leading apostrophe, which
  Excel and LibreOffice read as "this is text" (the OWASP advice); numbers and dates are left as
  they are.
* :func:`xlsx_response` writes an .xlsx workbook in which every text cell is stored as text
  (never as a formula, whatever it starts with) and risky text also carries Excel's "quote
  prefix" style, so that editing the cell in Excel keeps it text. The text itself is unchanged:
  what the user typed is what the cell shows. Numbers, dates and ``None`` stay numbers, dates
  and empty cells.
* :func:`csv_text` writes CSV with every text field passed through :func:`inert` and quoted.
* :func:`xlsx_export` is how a list page or an admin list is downloaded: a list of
  :class:`Column` (a translatable header and how to read the value from a row) over rows read
  with ``.iterator()``; the workbook is written row by row (openpyxl's write-only mode) to a
  temporary file and sent from there in chunks, so 100,000 rows never sit in memory, neither as
  model instances nor as the finished file.
* :class:`XlsxExportAdminMixin` gives an admin list an "export to Excel" link (and action) that
  downloads exactly the rows of the list as filtered, searched and ordered on screen (the admin's
  own ``ChangeList`` builds the queryset).

New exports use these helpers; none writes cells or CSV rows by hand.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .uploads import content_disposition

__all__ = [
    "FORMULA_PREFIXES",
    "XLSX_CONTENT_TYPE",
    "is_risky",
    "inert",
    "csv_text",
    "xlsx_bytes",
    "xlsx_response",
    "Column",
    "choice_labels",
    "xlsx_export",
    "XlsxExportAdminMixin",
]

#: First characters that make a spreadsheet program read text as a formula (or shift it into
#: one). The full-width forms are included: Chinese input methods type them, and some spreadsheet
#: programs normalise them to their ASCII forms.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: Excel's limit on the length of a cell's text.
_MAX_CELL_CHARS = 32_767
#: Characters Excel does not allow in a sheet's title, and its maximum length.
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
_SHEET_TITLE_MAX = 31


def is_risky(value: Any) -> bool:
    """True for text that a spreadsheet program could run as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def inert(value: Any) -> Any:
    """``value`` made safe for a CSV cell: risky text gets a leading apostrophe.

    Other text, numbers, dates and ``None`` are returned unchanged. (In .xlsx files the text is
    kept as it is and stored as text instead: see :func:`xlsx_response`.)"""
    return "'" + value if is_risky(value) else value


def _plain(value: Any) -> Any:
    """A value as a cell holds it: numbers, dates and text; aware datetimes in local time
    (spreadsheets have no time zones); anything else as its text."""
    if value is None or isinstance(value, bool | int | float | Decimal | str):
        return value
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date | dt.time):
        return value
    return str(value)


# --- CSV ------------------------------------------------------------------------------------------


def _csv_field(value: Any) -> Any:
    value = _plain(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return inert(value)


def csv_text(headers: Sequence[Any], rows: Iterable[Sequence[Any]]) -> str:
    """CSV (comma-separated, CRLF line ends, text fields quoted) of a header row and ``rows``,
    every text field passed through :func:`inert`. Add a BOM when serving it if Excel must read
    it as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow([_csv_field(h) for h in headers])
    for row in rows:
        writer.writerow([_csv_field(v) for v in row])
    return out.getvalue()


# --- xlsx -----------------------------------------------------------------------------------------


def _xlsx_cell(sheet, value: Any, *, font: Font | None = None) -> WriteOnlyCell:
    value = _plain(value)
    text = isinstance(value, str)
    if text:
        # XML 1.0 cannot hold most control characters (openpyxl refuses them); Excel caps a
        # cell's length. Tab, line feed and carriage return are allowed and kept.
        value = ILLEGAL_CHARACTERS_RE.sub("", value)[:_MAX_CELL_CHARS]
    cell = WriteOnlyCell(sheet, value=value)
    if text:
        # openpyxl makes any text starting with "=" a formula; text is text.
        cell.data_type = "s"
        if is_risky(value):
            cell.quotePrefix = True  # Excel's "'": editing the cell keeps it text
    if font is not None:
        cell.font = font
    return cell


def _xlsx_value(sheet, value: Any) -> Any:
    """A value of a data row as `sheet.append` takes it: plain values where openpyxl writes them
    as they are (numbers, dates, text that does not look like a formula: the fast path of
    100,000-row exports), a cell built by `_xlsx_cell` for risky text."""
    value = _plain(value)
    if isinstance(value, str):
        if value.startswith(FORMULA_PREFIXES):
            return _xlsx_cell(sheet, value)
        if ILLEGAL_CHARACTERS_RE.search(value) or len(value) > _MAX_CELL_CHARS:
            value = ILLEGAL_CHARACTERS_RE.sub("", value)[:_MAX_CELL_CHARS]
            if value.startswith(FORMULA_PREFIXES):  # cleaning can uncover a prefix
                return _xlsx_cell(sheet, value)
    return value


def _sheet_title(title: str) -> str:
    return _SHEET_TITLE_BAD.sub("_", title).strip("'")[:_SHEET_TITLE_MAX] or "Sheet1"


def _write_workbook(
    target,
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    sheet_title: str,
    column_widths: Sequence[float] | None,
) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(sheet_title))
    if column_widths:
        for index, width in enumerate(column_widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    sheet.append([_xlsx_cell(sheet, h, font=bold) for h in headers])
    for row in rows:
        sheet.append([_xlsx_value(sheet, v) for v in row])
    workbook.save(target)


def xlsx_bytes(
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    sheet_title: str = "Sheet1",
    column_widths: Sequence[float] | None = None,
) -> bytes:
    """An .xlsx workbook of one sheet: a bold header row, then ``rows``, every cell inert.

    Written with openpyxl's write-only mode, which keeps only the row being written in memory.
    """
    out = io.BytesIO()
    _write_workbook(out, headers, rows, sheet_title=sheet_title, column_widths=column_widths)
    return out.getvalue()


def xlsx_response(
    filename: str,
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    sheet_title: str | None = None,
    column_widths: Sequence[float] | None = None,
) -> HttpResponse:
    """A download of an .xlsx workbook (see :func:`xlsx_bytes`) named ``filename`` (Chinese
    names survive: UTF-8 ``filename*``). Personal data: never stored by shared caches."""
    if sheet_title is None:
        sheet_title = filename.rsplit(".", 1)[0]
    response = HttpResponse(
        xlsx_bytes(headers, rows, sheet_title=sheet_title, column_widths=column_widths),
        content_type=XLSX_CONTENT_TYPE,
    )
    response["Content-Disposition"] = content_disposition(filename, inline=False)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- exports of lists -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of an exported list: its header (translatable: the workbook is written in the
    reader's language) and how to read its value from one row (a model instance or a dict)."""

    label: Any
    value: Callable[[Any], Any]
    width: float | None = None


def choice_labels(choices) -> Callable[[Any], Any]:
    """A function from a stored choice to its label in the reader's language, translated once
    per export (a model's `get_FOO_display` translates again for every row: seconds over
    100,000 rows)."""
    labels = {value: str(label) for value, label in choices}
    return lambda value: labels.get(value, value)


def _private_download(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = content_disposition(filename, inline=False)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def xlsx_export(
    filename: str,
    columns: Sequence[Column],
    rows: Iterable[Any],
    *,
    sheet_title: str | None = None,
    chunk_size: int = 2000,
) -> FileResponse:
    """A download of ``rows`` as an .xlsx workbook with one column per :class:`Column`.

    A queryset is read with ``.iterator(chunk_size)`` (no result cache: a few thousand model
    instances at a time, whatever the list's size); the workbook is written row by row to a
    temporary file, which the response then sends in chunks and which disappears when it is
    closed. Every text cell is inert (see :func:`xlsx_bytes`); the headers are translated now, in
    the reader's language."""
    if isinstance(rows, QuerySet):
        rows = rows.iterator(chunk_size=chunk_size)
    if sheet_title is None:
        sheet_title = filename.rsplit(".", 1)[0]
    getters = [c.value for c in columns]
    target = tempfile.TemporaryFile(prefix="export-", suffix=".xlsx")  # noqa: SIM115
    try:
        _write_workbook(
            target,
            [str(c.label) for c in columns],
            ([get(row) for get in getters] for row in rows),
            sheet_title=sheet_title,
            column_widths=[c.width or 14 for c in columns],
        )
        target.seek(0)
    except BaseException:
        target.close()
        raise
    response = FileResponse(target, content_type=XLSX_CONTENT_TYPE)
    return _private_download(response, filename)


class XlsxExportAdminMixin:
    """An admin list that downloads as .xlsx: a link above the list ("导出 Excel", the template
    `admin/change_list_object_tools.html`) exports every row of the list as it is filtered,
    searched and ordered on screen (all pages); the action exports the rows ticked.

    A subclass gives the columns: ``get_xlsx_columns(request)`` (a list of :class:`Column`)."""

    xlsx_chunk_size = 2000

    def get_xlsx_columns(self, request) -> Sequence[Column]:
        raise NotImplementedError

    def get_xlsx_filename(self, request) -> str:
        day = timezone.localdate().isoformat()
        return f"{self.model._meta.verbose_name_plural}-{day}.xlsx"

    def _xlsx_url_name(self) -> str:
        return f"{self.model._meta.app_label}_{self.model._meta.model_name}_export_xlsx"

    def get_urls(self):
        export = path(
            "export.xlsx",
            self.admin_site.admin_view(self.xlsx_export_view),
            name=self._xlsx_url_name(),
        )
        return [export, *super().get_urls()]

    def xlsx_response(self, request, queryset) -> FileResponse:
        return xlsx_export(
            self.get_xlsx_filename(request),
            self.get_xlsx_columns(request),
            queryset,
            chunk_size=self.xlsx_chunk_size,
        )

    def xlsx_export_view(self, request):
        """The list as on screen: the admin's ChangeList reads the same GET parameters
        (filters, search, ordering) and gives the queryset of every page."""
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            opts = self.model._meta
            return HttpResponseRedirect(
                reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
            )
        return self.xlsx_response(request, changelist.queryset)

    def changelist_view(self, request, extra_context=None):
        query = request.GET.copy()
        query.pop("p", None)  # every page, not the one on screen
        url = reverse(f"admin:{self._xlsx_url_name()}", current_app=self.admin_site.name)
        extra = {"xlsx_export_url": f"{url}?{query.urlencode()}" if query else url}
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_view_or_change_permission(request):
            actions["export_xlsx_selected"] = (
                XlsxExportAdminMixin._export_selected,
                "export_xlsx_selected",
                _("Export the selected rows to Excel"),
            )
        return actions

    @staticmethod
    def _export_selected(model_admin, request, queryset):
        return model_admin.xlsx_response(request, queryset)
