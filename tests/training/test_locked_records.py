"""A year whose filing was submitted shows its study records locked, with the reason, instead of
offering 修改/删除 that the service refuses on saving (issue 14, point 3)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from training import services
from training.models import StudyRecord

YEAR = 2026


def _own_pending(manager, on=dt.date(YEAR, 5, 20), title="住宅专项维修资金管理政策解读"):
    return StudyRecord.objects.create(
        manager=manager,
        external_title=title,
        completed_on=on,
        hours=Decimal("6"),
        assessment=StudyRecord.Assessment.PASSED,
        source=StudyRecord.Source.SELF,
        status=StudyRecord.Status.PENDING,
    )


@pytest.fixture
def chinese_client(world, as_user):
    client = as_user(world.manager.user)
    client.post(reverse("set_language"), {"language": "zh-hans"})
    return client


def _hours_page(client, year=YEAR) -> str:
    response = client.get(reverse("training:study_hours") + f"?year={year}")
    assert response.status_code == 200
    return response.content.decode()


def test_open_year_offers_edit_and_delete(world, chinese_client):
    record = _own_pending(world.manager)
    html = _hours_page(chinese_client)
    assert reverse("training:study_record_edit", args=[record.pk]) in html
    assert reverse("training:study_record_delete", args=[record.pk]) in html
    assert 'data-testid="record-locked"' not in html
    assert 'data-testid="year-locked"' not in html


def test_submitted_year_shows_its_records_locked_with_the_reason(world, chinese_client):
    record = _own_pending(world.manager)
    earlier = _own_pending(world.manager, on=dt.date(YEAR - 1, 11, 27), title="上一年度课程")
    services.study_year_lock(manager_id=world.manager.pk, year=YEAR)

    html = _hours_page(chinese_client)
    assert reverse("training:study_record_edit", args=[record.pk]) not in html
    assert reverse("training:study_record_delete", args=[record.pk]) not in html
    assert 'data-testid="record-locked"' in html
    assert "已锁定" in html
    assert "已随年度登记备案提交" in html
    assert 'data-testid="year-locked"' in html  # the full reason above the list

    # The year before is not locked: its own record still offers both.
    html = _hours_page(chinese_client, YEAR - 1)
    assert reverse("training:study_record_edit", args=[earlier.pk]) in html
    assert 'data-testid="record-locked"' not in html


def test_unlocked_again_when_the_filing_comes_back(world, chinese_client):
    record = _own_pending(world.manager)
    services.study_year_lock(manager_id=world.manager.pk, year=YEAR)
    services.study_year_unlock(manager_id=world.manager.pk, year=YEAR)
    html = _hours_page(chinese_client)
    assert reverse("training:study_record_edit", args=[record.pk]) in html


def test_edit_page_of_a_locked_record_says_why_and_goes_back(world, chinese_client):
    record = _own_pending(world.manager)
    services.study_year_lock(manager_id=world.manager.pk, year=YEAR)
    response = chinese_client.get(reverse("training:study_record_edit", args=[record.pk]))
    assert response.status_code == 302
    assert response["Location"].endswith(f"?year={YEAR}")
    page = chinese_client.get(response["Location"]).content.decode()
    assert "该年度的登记备案已提交，本年度的学时记录已锁定。" in page


def test_locked_years_cost_one_query_for_the_page(
    world, chinese_client, django_assert_max_num_queries
):
    services.study_year_lock(manager_id=world.manager.pk, year=YEAR)
    _own_pending(world.manager)
    chinese_client.get(reverse("training:study_hours") + f"?year={YEAR}")  # warm the session
    with CaptureQueriesContext(connection) as few:
        _hours_page(chinese_client)
    for i in range(20):
        _own_pending(world.manager, on=dt.date(YEAR, 6, 1 + i), title=f"课程 {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        _hours_page(chinese_client)
    locks = [q for q in few.captured_queries if "lockedstudyyear" in q["sql"]]
    assert len(locks) == 1, locks
