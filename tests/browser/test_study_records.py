"""The manager's study records in a real browser (issue 14, points 2, 3 and 6): the edit form
shows the record's date and saves; a submitted year's records show locked, with the reason;
at phone width the list is cards with the actions in view."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from tests import factories as f

YEAR = 2026


@pytest.fixture
def record(transactional_db, world):
    from training.models import StudyRecord

    record = StudyRecord(
        manager=world.manager,
        external_title="城市更新中的物业服务创新案例",
        external_provider="湘西州物业管理协会培训中心",
        completed_on=dt.date(YEAR, 11, 27),
        hours=Decimal("6"),
        assessment=StudyRecord.Assessment.PASSED,
        score=Decimal("91"),
        source=StudyRecord.Source.SELF,
        status=StudyRecord.Status.PENDING,
        certificate_name="结业证书.png",
    )
    record._detected_mime = "image/png"
    record.certificate.save("结业证书.png", ContentFile(f.png_bytes()), save=False)
    record.save()
    return record


def _hours(page, base):
    page.goto(f"{base}/me/hours/?year={YEAR}")
    expect(page.locator("h1")).to_contain_text(str(YEAR))


def test_editing_a_study_record_shows_its_date_and_saves(record, live_server, page, login_as):
    login_as(record.manager.user)
    _hours(page, live_server.url)
    page.locator(f"[data-testid=study-record-{record.pk}] [data-testid=edit-record]").click()
    page.wait_for_url(re.compile(rf"/me/hours/{record.pk}/edit/$"))

    date = page.locator("#id_completed_on")
    expect(date).to_have_attribute("type", "date")
    expect(date).to_have_value(f"{YEAR}-11-27")  # the browser took the value: it is ISO
    page.fill("#id_hours", "7.5")
    page.locator("main form button[type=submit].btn-primary").click()

    page.wait_for_url(re.compile(rf"/me/hours/\?year={YEAR}$"))
    expect(page.get_by_role("alert").first).to_be_visible()
    record.refresh_from_db()
    assert record.hours == Decimal("7.5")
    assert record.completed_on == dt.date(YEAR, 11, 27)


@pytest.mark.parametrize("width", [1280, 390])
def test_a_submitted_years_records_show_locked(record, width, live_server, page, login_as):
    from training import services

    services.study_year_lock(manager_id=record.manager_id, year=YEAR)
    login_as(record.manager.user)
    page.set_viewport_size({"width": width, "height": 844 if width < 500 else 800})
    _hours(page, live_server.url)

    row = page.locator(f"[data-testid=study-record-{record.pk}]")
    expect(row.locator("[data-testid=record-locked]")).to_be_visible()
    expect(row).to_contain_text("已随年度登记备案提交")
    expect(row.locator("[data-testid=edit-record]")).to_have_count(0)
    expect(row.locator("[data-testid=delete-record]")).to_have_count(0)
    expect(page.locator("[data-testid=year-locked]")).to_contain_text("已锁定")
    badge = row.locator("[data-testid=record-locked]").bounding_box()
    assert badge["x"] >= 0 and badge["x"] + badge["width"] <= width

    # Typing the edit address anyway lands back on the list with the reason.
    page.goto(f"{live_server.url}/me/hours/{record.pk}/edit/")
    page.wait_for_url(re.compile(rf"/me/hours/\?year={YEAR}$"))
    expect(page.get_by_role("alert").first).to_contain_text("已锁定")


def test_at_phone_width_the_records_are_cards_with_their_actions_in_view(
    record, live_server, page, login_as
):
    login_as(record.manager.user)
    page.set_viewport_size({"width": 390, "height": 844})
    _hours(page, live_server.url)

    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    row = page.locator(f"[data-testid=study-record-{record.pk}]")
    for action in ("edit-record", "delete-record"):
        box = row.locator(f"[data-testid={action}]").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, action
    # Each value carries its column's name on the card (the table's header is hidden).
    thead = page.locator("table[data-testid=study-records] thead").bounding_box()
    assert thead["height"] <= 1  # visually hidden, still read by screen readers
    completed = row.locator("td[data-label]").first
    label = completed.evaluate("td => getComputedStyle(td, '::before').content")
    assert "完成日期" in label, label
