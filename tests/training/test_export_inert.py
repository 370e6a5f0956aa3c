"""Exports are inert (issue 11, part 5): a manager named like a formula is exported as text, in
the firm's compliance workbook and in a provider's error report."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from tests import factories as f
from training.imports import provider_report_import
from training.models import Course, HoursRule

FORMULA_NAMES = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tx", "\rx"]


@pytest.fixture
def formula_managers(world):
    managers = []
    for name in FORMULA_NAMES:
        manager = f.ManagerProfileFactory(real_name=name)
        f.employ(manager, world.firm)
        managers.append(manager)
    return managers


def test_formula_names_are_text_cells_in_the_firms_compliance_export(
    world, formula_managers, as_user
):
    HoursRule.objects.create(jurisdiction=world.prefecture, year=2026, annual_minimum=40)
    response = as_user(world.reviewer).get(
        reverse("training:firm_compliance_export") + "?year=2026"
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    names = {}
    for row in sheet.iter_rows(min_row=2):
        names[row[0].value] = row
    for name in FORMULA_NAMES:
        row = names[name]  # the exact text, not a formula nor its result
        assert row[0].data_type == "s", name
        assert row[0].quotePrefix
        # The numbers are still numbers.
        assert row[2].data_type == "n" and row[2].value == 0
        assert row[3].value == 40
    assert sheet["A1"].value == "姓名"
    assert sheet.title == "2026年学时"


def test_a_formula_in_a_providers_file_is_defused_in_the_error_report(world, as_user):
    provider = world.provider_user.provider_staff.provider
    course = Course.objects.create(
        provider=provider,
        code="XX2026-001",
        title="课程",
        hours=8,
        mode=Course.Mode.ONLINE,
        category=Course.Category.LAW,
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31),
    )
    bad_id = '=HYPERLINK("x")123'  # 18 characters: masked, it still starts with "="
    assert len(bad_id) == 18
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["身份证号", "姓名", "课程编号", "完成日期", "学时", "考核结果"])
    writer.writerow([bad_id, "张三", course.code, "2026-03-15", "8", "合格"])
    with translation.override("en"):
        result = provider_report_import(
            actor=world.provider_user, content=out.getvalue().encode(), file_name="x.csv"
        )
    assert not result.ok
    response = as_user(world.provider_user).get(
        reverse("training:report_errors", args=[result.report.pk])
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8")[1:])))
    assert rows[0] == ["行号", "身份证号", "列", "问题"]
    masked = {row[1] for row in rows[1:]}
    assert masked == {"'" + bad_id[:6] + "********" + bad_id[-4:]}
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
