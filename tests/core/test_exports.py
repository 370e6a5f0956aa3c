"""core.exports: text that a spreadsheet could run stays text; numbers and dates stay what they
are. Workbooks are read back with openpyxl, CSV with the csv module."""

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from core.exports import XLSX_CONTENT_TYPE, csv_text, inert, xlsx_bytes, xlsx_response

RISKY = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "＝1+1"]
HARMLESS = ["彭建国", "PM2026000001", "a=b", " =1", ""]


def read_sheet(content: bytes):
    return load_workbook(io.BytesIO(content)).active


@pytest.mark.parametrize("value", RISKY)
def test_risky_text_is_a_text_cell_with_exactly_that_text_in_xlsx(value):
    sheet = read_sheet(xlsx_bytes(["姓名"], [[value]]))
    cell = sheet["A2"]
    assert cell.data_type == "s"
    assert cell.value == value
    assert cell.quotePrefix  # Excel keeps it text when the cell is edited


def test_no_formula_reaches_the_workbooks_xml():
    content = xlsx_bytes(["姓名"], [[v] for v in RISKY])
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert sheets
        assert all(b"<f>" not in archive.read(n) and b"<f " not in archive.read(n) for n in sheets)


def test_numbers_dates_and_empty_cells_stay_what_they_are_in_xlsx():
    when = dt.datetime(2026, 3, 1, 9, 30, tzinfo=ZoneInfo("UTC"))
    row = [12.5, 40, Decimal("7.5"), dt.date(2026, 3, 15), when, None, "彭建国"]
    sheet = read_sheet(xlsx_bytes(list("ABCDEFG"), [row]))
    cells = [c for c in sheet[2]]
    assert [c.value for c in cells[:3]] == [12.5, 40, 7.5]
    assert all(c.data_type == "n" for c in cells[:3])
    assert cells[3].value == dt.datetime(2026, 3, 15) and cells[3].is_date
    # Spreadsheets have no time zones: local time (Asia/Shanghai).
    assert cells[4].value == dt.datetime(2026, 3, 1, 17, 30) and cells[4].is_date
    assert cells[5].value is None
    assert (cells[6].value, cells[6].data_type, cells[6].quotePrefix) == ("彭建国", "s", False)


def test_characters_xml_cannot_hold_do_not_break_the_export():
    sheet = read_sheet(xlsx_bytes(["姓名"], [["彭\x07建\x00国"]]))
    assert sheet["A2"].value == "彭建国"


def test_the_header_row_is_bold_and_the_sheet_title_is_made_valid():
    content = xlsx_bytes(
        ["姓名", "=x"], [], sheet_title="2026年[学时]/汇总:*?超过三十一个字符的标题会被截断截断截断"
    )
    sheet = read_sheet(content)
    assert sheet["A1"].font.bold and sheet["A1"].value == "姓名"
    assert sheet["B1"].data_type == "s"
    assert len(sheet.title) <= 31 and not set("[]:*?/\\") & set(sheet.title)


def test_the_response_is_an_xlsx_download_with_a_chinese_name():
    response = xlsx_response("学时达标-2026.xlsx", ["姓名"], [["=1"]])
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert response["Content-Disposition"].startswith("attachment; ")
    assert "filename*=UTF-8''" + quote("学时达标-2026.xlsx") in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert read_sheet(response.content)["A2"].data_type == "s"


@pytest.mark.parametrize("value", RISKY)
def test_risky_text_gets_an_apostrophe_in_csv(value):
    assert inert(value) == "'" + value
    (header, row) = list(csv.reader(io.StringIO(csv_text(["姓名"], [[value]]), newline="")))
    assert header == ["姓名"]
    assert row == ["'" + value]


@pytest.mark.parametrize("value", HARMLESS)
def test_harmless_text_is_left_alone(value):
    assert inert(value) == value
    assert read_sheet(xlsx_bytes(["x"], [[value or "-"]]))["A2"].data_type == "s"


def test_csv_quotes_text_and_keeps_numbers_and_dates():
    text = csv_text(
        ["行号", "问题"], [[3, "=cmd|' /C calc'!A0"], [4.5, dt.date(2026, 3, 1)], [None, None]]
    )
    lines = text.splitlines()
    assert lines[0] == '"行号","问题"'
    assert lines[1] == "3,\"'=cmd|' /C calc'!A0\""
    assert lines[2] == '4.5,"2026-03-01"'
    assert list(csv.reader(io.StringIO(text)))[1] == ["3", "'=cmd|' /C calc'!A0"]


def test_numbers_are_not_prefixed_in_csv():
    assert inert(-2) == -2
    assert inert(Decimal("-1.5")) == Decimal("-1.5")
    assert inert(None) is None
