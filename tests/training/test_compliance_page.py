"""The firm's compliance page: constant queries at 2,000 managers and 100,000 records; export."""

import datetime as dt
import io

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from tests import factories as f
from training.models import Course, HoursRule, StudyRecord


def add_records(managers, per_manager, course=None):
    records = []
    for m in managers:
        for i in range(per_manager):
            records.append(
                StudyRecord(
                    manager_id=m,
                    external_title=f"课程{i}",
                    completed_on=dt.date(2026, 1 + i % 10, 1),
                    hours=1,
                    assessment="passed",
                    source="provider",
                    status="verified" if i % 5 else "pending",
                )
            )
    StudyRecord.objects.bulk_create(records, batch_size=10_000)


def page_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_compliance_page_with_2000_managers_and_100k_records_is_constant_in_queries(
    world, as_user, django_assert_max_num_queries
):
    HoursRule.objects.create(jurisdiction=world.prefecture, year=2026, annual_minimum=40)
    client = as_user(world.reviewer)
    url = reverse("training:firm_compliance") + "?year=2026"
    f.bulk_managers(10, "SM", firm=world.firm)
    few = page_queries(client, url)

    f.bulk_managers(2000 - 11, "BG", firm=world.firm)
    ids = list(world.firm.employments.values_list("manager_id", flat=True))
    assert len(ids) == 2000
    add_records(ids, 50)
    assert StudyRecord.objects.count() == 100_000
    for query in ("", "&status=short", "&order=-needed", "&page=40"):
        with django_assert_max_num_queries(few):
            response = client.get(url + query)
        assert response.status_code == 200
    # 50 records each, 40 of them verified and passed: exactly the 40 hours required.
    compliant = client.get(url + "&status=compliant").context["page"].paginator.count
    assert compliant == 2000


def test_compliance_export_has_chinese_headers_and_every_manager(world, as_user):
    HoursRule.objects.create(jurisdiction=world.prefecture, year=2026, annual_minimum=40)
    f.bulk_managers(30, "EX", firm=world.firm)
    response = as_user(world.reviewer).get(
        reverse("training:firm_compliance_export") + "?year=2026"
    )
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    rows = list(sheet.values)
    assert rows[0][:3] == ("姓名", "执业登记号", "本年已计学时")
    assert len(rows) == 1 + 31  # header + the world's manager + 30
    assert all(row[-1] in ("达标", "未达标") for row in rows[1:])


def test_compliance_page_shows_only_the_firms_managers(world, as_user):
    html = as_user(world.reviewer).get(reverse("training:firm_compliance")).content.decode()
    assert world.manager.real_name in html
    assert world.other_manager.real_name not in html


def test_catalogue_search_and_filters(world, as_user):
    provider = f.ProviderFactory(jurisdiction=world.prefecture)
    for code, title, cat in [("A1", "电梯安全", "safety"), ("A2", "物业法规", "law")]:
        Course.objects.create(
            provider=provider,
            code=code,
            title=title,
            hours=8,
            mode="online",
            category=cat,
            start_date=dt.date(2026, 1, 1),
            end_date=dt.date(2026, 12, 31),
        )
    client = as_user(world.manager.user)
    html = client.get(reverse("training:catalogue"), {"category": "safety"}).content.decode()
    assert "电梯安全" in html and "物业法规" not in html
    html = client.get(reverse("training:catalogue"), {"q": "法规"}).content.decode()
    assert "物业法规" in html and "电梯安全" not in html
