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

New exports use these helpers; none writes cells or CSV rows by hand.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
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


def _xlsx_cell(sheet, value: Any, *, font: Font | None = None) -> WriteOnlyCell | Any:
    value = _plain(value)
    text = isinstance(value, str)
    if text:
        # XML 1.0 cannot hold most control characters (openpyxl refuses them); Excel caps a
        # cell's length. Tab, line feed and carriage return are allowed and kept.
        value = ILLEGAL_CHARACTERS_RE.sub("", value)[:_MAX_CELL_CHARS]
    if font is None and not is_risky(value):
        # A plain value is stored as it is: numbers as numbers, text as text (openpyxl makes
        # only text starting with "=" a formula, and that is risky). A cell object for every
        # value costs openpyxl an exception per cell (it tries it as a value first).
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if text:
        # openpyxl makes any text starting with "=" a formula; text is text.
        cell.data_type = "s"
        if is_risky(value):
            cell.quotePrefix = True  # Excel's "'": editing the cell keeps it text
    if font is not None:
        cell.font = font
    return cell


def _sheet_title(title: str) -> str:
    return _SHEET_TITLE_BAD.sub("_", title).strip("'")[:_SHEET_TITLE_MAX] or "Sheet1"


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
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(sheet_title))
    if column_widths:
        for index, width in enumerate(column_widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    sheet.append([_xlsx_cell(sheet, h, font=bold) for h in headers])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
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
