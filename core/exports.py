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
  with ``.iterator()``; the workbook is written row by row (SpreadsheetML into the zip) to a
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
import math
import re
import tempfile
import zipfile
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
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
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


# The workbook is written here, as SpreadsheetML text into a zip archive, row by row: openpyxl's
# write-only mode spends some 25 µs on each cell (100,000 rows of ten columns: half a minute on
# this machine), this writer about 2 µs. openpyxl reads the result in the tests (and imports
# the providers' files); the format is the minimal one Excel, WPS and LibreOffice open: one sheet,
# inline strings, a style sheet with the header's bold font, the quote prefix and date formats.

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
<Override PartName="/xl/worksheets/sheet1.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
<Override PartName="/xl/styles.xml" \
ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
</Types>"""
_ROOT_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{_PKG_REL_NS}">\
<Relationship Id="rId1" Target="xl/workbook.xml" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>\
</Relationships>"""
_WORKBOOK_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{_PKG_REL_NS}">\
<Relationship Id="rId1" Target="worksheets/sheet1.xml" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet"/>\
<Relationship Id="rId2" Target="styles.xml" \
Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"/>\
</Relationships>"""
# Cell styles (the `s` attribute): 0 plain, 1 bold (the header), 2 quote prefix (risky text),
# 3 bold with quote prefix, 4 date, 5 date and time, 6 time.
_STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{_MAIN_NS}">\
<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd hh:mm"/></numFmts>\
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>\
<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill>\
<fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="7">\
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>\
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" quotePrefix="1"/>\
<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="21" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
</cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
</styleSheet>"""
_EPOCH = dt.datetime(1899, 12, 30)
#: A to ZZ: the columns an export may have.
_COLUMN_LETTERS = [get_column_letter(i) for i in range(1, 703)]
_XML_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


def _clean_text(value: str) -> str:
    # XML 1.0 cannot hold most control characters; Excel caps a cell's length. Tab, line feed
    # and carriage return are allowed and kept.
    if len(value) > _MAX_CELL_CHARS or ILLEGAL_CHARACTERS_RE.search(value):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)[:_MAX_CELL_CHARS]
    return value.translate(_XML_ESCAPES)


def _cell_xml(ref: str, value: Any, *, bold: bool = False) -> str:
    """One cell: text as an inline string (never a formula, whatever it starts with; risky
    text with Excel's quote prefix, so that editing it keeps it text), numbers, dates as
    serial numbers with a date format, None as nothing."""
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | Decimal) or (isinstance(value, float) and math.isfinite(value)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, dt.datetime):
        serial = (value - _EPOCH) / dt.timedelta(days=1)
        return f'<c r="{ref}" s="5"><v>{serial!r}</v></c>'
    if isinstance(value, dt.date):
        return f'<c r="{ref}" s="4"><v>{(value - _EPOCH.date()).days}</v></c>'
    if isinstance(value, dt.time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        return f'<c r="{ref}" s="6"><v>{seconds / 86400!r}</v></c>'
    text = str(value)
    style = (2 if is_risky(text) else 0) + (1 if bold else 0)
    styled = f' s="{style}"' if style else ""
    return (
        f'<c r="{ref}"{styled} t="inlineStr"><is><t xml:space="preserve">'
        f"{_clean_text(text)}</t></is></c>"
    )


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
    """Write the workbook into `target` (a binary file): the sheet row by row, some two thousand
    rows at a time into the compressed archive, so that memory holds no more than that."""
    letters = _COLUMN_LETTERS
    title = _clean_text(_sheet_title(sheet_title)).replace('"', "&quot;")
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}"><sheets>'
            f'<sheet name="{title}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            head = [
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_MAIN_NS}">'
            ]
            if column_widths:
                head.append("<cols>")
                head.extend(
                    f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                    for i, w in enumerate(column_widths, start=1)
                )
                head.append("</cols>")
            head.append('<sheetData><row r="1">')
            head.extend(_cell_xml(f"{letters[i]}1", h, bold=True) for i, h in enumerate(headers))
            head.append("</row>")
            sheet.write("".join(head).encode())
            chunk: list[str] = []
            for number, row in enumerate(rows, start=2):
                chunk.append(f'<row r="{number}">')
                chunk.extend(_cell_xml(f"{letters[i]}{number}", v) for i, v in enumerate(row))
                chunk.append("</row>")
                if len(chunk) > 20_000:
                    sheet.write("".join(chunk).encode())
                    chunk.clear()
            chunk.append("</sheetData></worksheet>")
            sheet.write("".join(chunk).encode())


def xlsx_bytes(
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    sheet_title: str = "Sheet1",
    column_widths: Sequence[float] | None = None,
) -> bytes:
    """An .xlsx workbook of one sheet: a bold header row, then ``rows``, every cell inert.

    Written row by row (see `_write_workbook`); the finished file is returned in memory, so
    large lists use :func:`xlsx_export` instead.
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
    #: Fields the export need not read (a list may defer more for its page: the export reads
    #: every field again but these, so that no column costs a query per row).
    xlsx_defer: Sequence[str] = ()

    def get_xlsx_columns(self, request) -> Sequence[Column]:
        raise NotImplementedError

    def get_xlsx_queryset(self, request, queryset: QuerySet) -> QuerySet:
        queryset = queryset.defer(None)
        return queryset.defer(*self.xlsx_defer) if self.xlsx_defer else queryset

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
            self.get_xlsx_queryset(request, queryset),
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
