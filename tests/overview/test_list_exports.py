"""Excel everywhere an official or a firm reviewer looks at a list: each export opened with
openpyxl — Chinese headers, the list's filter respected, the reader's scope kept, ID numbers
masked for everyone but bureau staff, user text that looks like a formula kept as text — and a
large list streamed through the one exporter (core.exports.xlsx_export)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.http import FileResponse
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import ManagerProfile
from accounts.validators import mask_id_number
from core.exports import XLSX_CONTENT_TYPE, Column, xlsx_export
from notifications.models import Notice
from registry.models import AnnualFiling, RegistryStatus
from tests import factories as f

YEAR = 2025
S = AnnualFiling.Status
EVIL = '=HYPERLINK("http://evil.example","点击")'


def _sheet(response):
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    assert "no-store" in response["Cache-Control"]
    content = b"".join(response.streaming_content) if response.streaming else response.content
    sheet = load_workbook(io.BytesIO(content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    return rows[0], rows[1:], sheet


def _col(header, name):
    return header.index(name)


def _filing(manager, firm, status):
    return AnnualFiling.objects.create(
        manager=manager,
        year=YEAR,
        status=status,
        firm=firm,
        jurisdiction=firm.jurisdiction,
        certificate_code=f"K{manager.pk:07d}" if status == S.APPROVED else None,
        approved_at=dt.datetime(YEAR + 1, 2, 1, tzinfo=dt.UTC) if status == S.APPROVED else None,
        return_reason=EVIL if status == S.RETURNED else "",
    )


@pytest.fixture
def lists(world):
    w = world
    ManagerProfile.objects.filter(pk=w.manager.pk).update(real_name=EVIL)
    w.manager.refresh_from_db()
    colleague = f.bulk_managers(2, "jishou", firm=w.firm)
    _filing(w.manager, w.firm, S.AWAITING_BUREAU)
    _filing(colleague[0], w.firm, S.APPROVED)
    _filing(colleague[1], w.firm, S.AWAITING_FIRM)
    _filing(w.other_manager, w.other_firm, S.AWAITING_BUREAU)
    now = dt.datetime(YEAR + 1, 4, 1, tzinfo=dt.UTC)
    for m, status in [
        (w.manager, "abnormal"),
        (colleague[0], "normal"),
        (w.other_manager, "abnormal"),
    ]:
        RegistryStatus.objects.create(
            manager=m,
            year=YEAR,
            status=status,
            reasons=["not_filed"] if status == "abnormal" else [],
            jurisdiction=m.jurisdiction,
            closed_on=dt.date(YEAR + 1, 3, 31),
            decided_at=now,
            updated_at=now,
        )
    f.study_hours(w.manager, YEAR, 12)
    f.study_hours(w.other_manager, YEAR, 8)
    f.conduct_record(w.manager, by=w.bureau)
    f.conduct_record(w.other_manager, by=w.other_bureau)
    Notice.objects.create(recipient=w.manager.user, kind=Notice.Kind.values[0], milestone="t1")
    Notice.objects.create(
        recipient=w.other_manager.user, kind=Notice.Kind.values[0], milestone="t2"
    )
    w.colleague = colleague
    return w


def _export_url(model: str) -> str:
    return reverse(f"admin:{model}_export_xlsx")


# --- the admin (bureau staff) ------------------------------------------------------------------


def test_admin_filing_export_is_the_filtered_list_in_chinese_with_full_id_numbers(lists, as_user):
    w = lists
    client = as_user(w.prefecture_bureau)
    header, rows, _ = _sheet(
        client.get(_export_url("registry_annualfiling"), {"status__exact": "awaiting_bureau"})
    )
    assert header[:4] == ["姓名", "执业登记号", "身份证号", "年度"]
    assert "状态" in header and "物业服务企业" in header
    assert sorted(r[_col(header, "执业登记号")] for r in rows) == sorted(
        [w.manager.registration_number, w.other_manager.registration_number]
    )
    assert {r[_col(header, "状态")] for r in rows} == {"待主管部门复核"}
    assert w.manager.id_number in [r[2] for r in rows]  # bureau staff read them in full
    # The county filter of the list, as on screen; the county official sees only his own.
    _, rows, _ = _sheet(
        client.get(_export_url("registry_annualfiling"), {"county": w.other_county.pk})
    )
    assert [r[1] for r in rows] == [w.other_manager.registration_number]
    _, rows, _ = _sheet(as_user(w.bureau).get(_export_url("registry_annualfiling")))
    assert len(rows) == 3 and w.other_manager.registration_number not in [r[1] for r in rows]


def test_admin_filing_export_has_the_triages_risk_flags(lists, as_user):
    w = lists
    AnnualFiling.objects.filter(manager=w.manager).update(
        hours_short_at_submission=True, duplicate_document=True
    )
    header, rows, _ = _sheet(as_user(w.bureau).get(_export_url("registry_annualfiling")))
    flags = {r[_col(header, "执业登记号")]: r[_col(header, "风险提示")] for r in rows}
    assert (
        flags[w.manager.registration_number] == "提交时学时不足；有文件与其他物业管理员提交的相同"
    )
    assert "企业审核用时（天）" in header


def test_formula_looking_text_stays_text(lists, as_user):
    header, rows, sheet = _sheet(
        as_user(lists.bureau).get(_export_url("registry_annualfiling"), {"q": "HYPERLINK"})
    )
    assert rows and rows[0][0] == EVIL
    cell = sheet["A2"]
    assert cell.data_type == "s" and cell.quotePrefix


def test_admin_abnormal_list_export(lists, as_user):
    header, rows, _ = _sheet(
        as_user(lists.prefecture_bureau).get(
            _export_url("registry_registrystatus"),
            {"status__exact": "abnormal", "year__exact": YEAR},
        )
    )
    assert "执业状态" in header and "异常原因" in header
    assert {r[_col(header, "执业状态")] for r in rows} == {"异常"}
    assert len(rows) == 2


@pytest.mark.parametrize(
    ("model", "headers", "rows_for_county"),
    [
        ("accounts_managerprofile", ["姓名", "执业登记号", "身份证号", "手机号码"], 3),
        ("accounts_employment", ["姓名", "物业服务企业", "状态"], 3),
        ("accounts_firm", ["企业名称", "统一社会信用代码"], 1),
        ("training_studyrecord", ["姓名", "课程", "学时", "考核结果"], 1),
        ("registry_conductrecord", ["姓名", "类型", "摘要"], 1),
        ("notifications_notice", ["时间", "接收人", "标题"], 1),
    ],
)
def test_every_admin_list_exports_in_chinese_within_the_officials_scope(
    lists, as_user, model, headers, rows_for_county
):
    header, rows, _ = _sheet(as_user(lists.bureau).get(_export_url(model)))
    assert all(h in header for h in headers), header
    assert len(rows) == rows_for_county
    assert not any(lists.other_manager.real_name in str(v) for r in rows for v in r)


def test_the_changelist_links_to_its_export_with_its_filters(lists, as_user):
    html = (
        as_user(lists.bureau)
        .get(reverse("admin:registry_annualfiling_changelist"), {"status__exact": "approved"})
        .content.decode()
    )
    assert 'data-testid="xlsx-export"' in html
    assert _export_url("registry_annualfiling") + "?status__exact=approved" in html
    assert "导出 Excel" in html


def test_the_admin_action_exports_the_selected_rows(lists, as_user):
    w = lists
    chosen = AnnualFiling.objects.get(manager=w.colleague[0])
    response = as_user(w.bureau).post(
        reverse("admin:registry_annualfiling_changelist"),
        {"action": "export_xlsx_selected", "_selected_action": [chosen.pk]},
    )
    _, rows, _ = _sheet(response)
    assert [r[1] for r in rows] == [w.colleague[0].registration_number]


@pytest.mark.parametrize("who", ["reviewer", "manager"])
def test_firms_and_managers_cannot_reach_the_admin_exports(lists, as_user, who):
    user = getattr(lists, who)
    user = user.user if isinstance(user, ManagerProfile) else user
    response = as_user(user).get(_export_url("registry_annualfiling"))
    assert response.status_code in (302, 403)
    assert response.get("Content-Type") != XLSX_CONTENT_TYPE


# --- the firm's pages --------------------------------------------------------------------------


def test_firm_filing_export_masks_id_numbers_and_follows_the_queue_filter(lists, as_user):
    w = lists
    client = as_user(w.reviewer)
    url = reverse("registry:firm_queue_export")
    header, rows, _ = _sheet(client.get(url))  # as the queue: awaiting the firm by default
    assert [r[1] for r in rows] == [w.colleague[1].registration_number]
    header, rows, _ = _sheet(client.get(url, {"status": "all"}))
    assert header[:3] == ["姓名", "执业登记号", "身份证号"]
    numbers = {r[1] for r in rows}
    assert numbers == {w.manager.registration_number, *(c.registration_number for c in w.colleague)}
    ids = [r[2] for r in rows]
    assert mask_id_number(w.manager.id_number) in ids
    assert w.manager.id_number not in ids and all("********" in i for i in ids)
    assert EVIL in [r[0] for r in rows]
    html = client.get(reverse("registry:firm_queue")).content.decode()
    assert reverse("registry:firm_queue_export") in html


def test_firm_manager_export_masks_id_numbers_and_follows_the_search(lists, as_user):
    w = lists
    client = as_user(w.reviewer)
    url = reverse("overview:firm_managers_export")
    header, rows, _ = _sheet(client.get(url))
    assert "执业状态" in header and "身份证号" in header
    assert len(rows) == 3
    assert all("********" in r[_col(header, "身份证号")] for r in rows)
    _, rows, _ = _sheet(client.get(url, {"q": w.colleague[0].real_name}))
    assert [r[0] for r in rows] == [w.colleague[0].real_name]
    _, rows, _ = _sheet(client.get(url, {"status": "abnormal"}))
    assert [r[0] for r in rows] == [EVIL]
    assert as_user(w.bureau).get(url).status_code == 403


# --- the exporter ------------------------------------------------------------------------------


def test_a_large_list_is_streamed_from_a_file_read_in_chunks(lists, django_assert_max_num_queries):
    f.bulk_managers(2500, "big", firm=lists.firm)
    managers = ManagerProfile.objects.order_by("pk")
    columns = [
        Column("姓名", lambda m: m.real_name),
        Column("执业登记号", lambda m: m.registration_number),
    ]
    # Read with a server-side cursor in chunks: a few fetches, not the whole table at once,
    # and no result cache on the queryset.
    response = xlsx_export("大名单.xlsx", columns, managers, chunk_size=1000)
    assert isinstance(response, FileResponse) and response.streaming
    assert managers._result_cache is None
    header, rows, _ = _sheet(response)
    assert header == ["姓名", "执业登记号"]
    assert len(rows) == ManagerProfile.objects.count() >= 2500
    assert "filename*=UTF-8''%E5%A4%A7%E5%90%8D%E5%8D%95.xlsx" in response["Content-Disposition"]


def test_firm_reviewer_exports_his_own_notices_a_manager_has_no_button(lists, as_user):
    w = lists
    Notice.objects.create(recipient=w.reviewer, kind=Notice.Kind.values[0], milestone="r1")
    url = reverse("notifications:notice_export")
    header, rows, _ = _sheet(as_user(w.reviewer).get(url))
    assert header[:4] == ["时间", "类型", "年度", "标题"]
    assert len(rows) == 1
    assert url in as_user(w.reviewer).get(reverse("notifications:notice_list")).content.decode()
    manager = as_user(w.manager.user)
    assert url not in manager.get(reverse("notifications:notice_list")).content.decode()
    assert manager.get(url).status_code == 403


@pytest.mark.parametrize(
    "model",
    [
        "registry_annualfiling",
        "registry_registrystatus",
        "registry_conductrecord",
        "accounts_managerprofile",
        "accounts_employment",
        "training_studyrecord",
        "notifications_notice",
    ],
)
def test_admin_exports_read_no_row_by_row(lists, as_user, model, django_assert_max_num_queries):
    """The list's page may defer what it does not show (the ID number): the export reads every
    column in the same few queries whatever the number of rows."""
    w = lists
    more = f.bulk_managers(30, "many", firm=w.firm)
    for m in more:
        _filing(m, w.firm, S.AWAITING_BUREAU)
        f.study_hours(m, YEAR, 2)
        Notice.objects.create(recipient=m.user, kind=Notice.Kind.values[0], milestone="m")
    client = as_user(w.bureau)
    with django_assert_max_num_queries(14):
        header, rows, _ = _sheet(client.get(_export_url(model)))
    assert rows
