"""The public disclosure lists (公示), tried as the public: no login, nothing non-public, periods
respected, searchable by name and firm (never by ID number), paginated with a constant number
of queries, limited per client address (429)."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ManagerProfile
from credit.models import CreditScore, SupervisionEntry
from registry.models import RegistryStatus
from tests import factories as f

YEAR = 2026


def decided(manager, reasons=(), *, year=YEAR, days_ago=30, jurisdiction=None):
    when = timezone.now() - dt.timedelta(days=days_ago)
    return RegistryStatus.objects.create(
        manager=manager,
        year=year,
        status="abnormal" if reasons else "normal",
        reasons=list(reasons),
        jurisdiction=jurisdiction or manager.jurisdiction,
        closed_on=dt.date(year + 1, 3, 31),
        decided_at=when,
        updated_at=when,
    )


def listed(manager, *, public_reason="两年内两次考核不合格", ends_in=200, ended=False, by):
    today = timezone.localdate()
    return SupervisionEntry.objects.create(
        manager=manager,
        cause="assessment_twice",
        reason="内部记录：投诉人张某某电话13900001111",
        public_reason=public_reason,
        starts_on=today - dt.timedelta(days=30),
        ends_on=today + dt.timedelta(days=ends_in),
        jurisdiction=manager.jurisdiction,
        listed_by=by,
        listed_at=timezone.now(),
        ended_at=timezone.now() if ended else None,
    )


def scored(manager, grade, score=75, *, year=YEAR):
    return CreditScore.objects.create(
        manager=manager,
        year=year,
        jurisdiction=manager.jurisdiction,
        score=score,
        grade=grade,
        latest=True,
        as_of=timezone.localdate(),
        computed_at=timezone.now(),
    )


def url(jurisdiction, **params):
    base = reverse("disclosure:list", args=[jurisdiction.code, YEAR])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def employed(world, name, firm=None):
    manager = f.ManagerProfileFactory(real_name=name)
    f.employ(manager, firm or world.firm)
    return manager


@pytest.fixture
def lists(world):
    """In 吉首市 (firm 吉首市甲物业): 彭建国 abnormal (no filing); 石海 abnormal only because of a
    record that is not public; 龙飞 abnormal for hours and a record that is not public; 田芳
    abnormal with a public bad record; 杨柳 abnormal, decided over a year ago. In 凤凰县: 向丽华
    abnormal. Key-supervision: 彭建国 on the list, 石海 taken off, 龙飞's period over."""
    shi = employed(world, "石海")
    long = employed(world, "龙飞")
    tian = employed(world, "田芳")
    yang = employed(world, "杨柳")
    decided(world.manager, ["not_filed"])
    f.conduct_record(shi, public=False, start=dt.date(2026, 3, 1), by=world.bureau)
    decided(shi, ["bad_conduct"])
    f.conduct_record(long, public=False, start=dt.date(2026, 3, 1), by=world.bureau)
    decided(long, ["hours_short", "bad_conduct"])
    f.conduct_record(tian, public=True, start=dt.date(2026, 3, 1), by=world.bureau)
    decided(tian, ["bad_conduct"])
    decided(yang, ["not_filed"], days_ago=400)
    decided(world.other_manager, ["not_filed"])
    listed(world.manager, by=world.bureau)
    listed(shi, ended=True, by=world.bureau)
    listed(long, ends_in=-1, by=world.bureau)
    for manager, grade in ((world.manager, "C"), (shi, "B"), (long, "B"), (tian, "A")):
        scored(manager, grade)
    return {"shi": shi, "long": long, "tian": tian, "yang": yang}


def test_the_abnormal_list_shows_public_facts_only(world, lists, as_user):
    response = as_user(None).get(url(world.county))
    html = response.content.decode()
    assert response.status_code == 200
    table = html[html.index('data-testid="disclosure-abnormal"') :]
    assert "彭建国" in table and world.manager.registration_number in table
    assert "吉首市甲物业" in table and "未提交备案" in table
    # Abnormal only because of a record that is not public: not listed at all.
    assert "石海" not in table
    # Hours short shows; the record that is not public does not.
    row = table[table.index("龙飞") : table.index("</tr>", table.index("龙飞"))]
    assert "学时" in row and "不良" not in row
    # A public bad record is a public reason.
    assert "田芳" in table
    # Decided over a year ago: the disclosure period is over.
    assert "杨柳" not in table
    # Another county's manager is not in this county's list; the prefecture's has both.
    assert "向丽华" not in table
    prefecture = as_user(None).get(url(world.prefecture)).content.decode()
    assert "向丽华" in prefecture and "彭建国" in prefecture
    # Nothing private anywhere on the page.
    for manager in ManagerProfile.objects.all():
        assert manager.id_number not in html
    assert "13907430001" not in html and "投诉人" not in html


def test_a_corrected_status_leaves_the_list(world, lists, as_user):
    RegistryStatus.objects.filter(manager=world.manager).update(status="normal", reasons=[])
    html = as_user(None).get(url(world.county)).content.decode()
    assert "彭建国" not in html[html.index("disclosure-") :]


def test_the_key_supervision_list_shows_the_public_reason_and_the_period(world, lists, as_user):
    html = as_user(None).get(url(world.county, list="supervision")).content.decode()
    table = html[html.index('data-testid="disclosure-supervision"') :]
    assert "彭建国" in table and "两年内两次考核不合格" in table
    assert world.manager.registration_number in table and "吉首市甲物业" in table
    assert "内部记录" not in html and "13900001111" not in html
    # Taken off, or the period over: gone.
    assert "石海" not in table and "龙飞" not in table


def test_the_grade_distribution_counts_only(world, lists, as_user):
    html = as_user(None).get(url(world.county)).content.decode()
    grades = html[html.index('data-testid="disclosure-grades"') : html.index("</section>")]
    counts = dict(re.findall(r'<div class="fw-bold">(\w+)</div><div>(\d+)</div>', grades))
    assert counts == {"AAA": "0", "AA": "0", "A": "1", "B": "2", "C": "1"}
    assert "彭建国" not in grades


def test_search_by_name_and_by_firm_but_never_by_id_number(world, lists, as_user):
    client = as_user(None)
    by_name = client.get(url(world.county, q="田")).content.decode()
    assert "田芳" in by_name and "彭建国" not in by_name.split("disclosure-abnormal")[-1]
    by_firm = client.get(url(world.prefecture, q="凤凰县乙")).content.decode()
    assert "向丽华" in by_firm and "彭建国" not in by_firm.split("disclosure-abnormal")[-1]
    by_id = client.get(url(world.county, q=world.manager.id_number, list="supervision"))
    assert by_id.status_code == 302 and world.manager.id_number not in by_id["Location"]
    assert by_id["Location"] == url(world.county, list="supervision")
    text = client.get(by_id["Location"]).content.decode()
    assert "不支持按身份证号查询" in text and world.manager.id_number not in text


def test_the_lists_are_paginated_in_a_constant_number_of_queries(
    world, as_user, django_assert_max_num_queries
):
    managers = f.bulk_managers(120, "批量", firm=world.firm)
    for manager in managers:
        decided(manager, ["not_filed"])
        listed(manager, by=world.bureau)
    client = as_user(None)
    for which in ("abnormal", "supervision"):
        with django_assert_max_num_queries(6):
            first = client.get(url(world.county, list=which)).content.decode()
        assert first.count("<tr>") == 51  # the header and 50 rows
        with django_assert_max_num_queries(6):
            last = client.get(url(world.county, list=which, page=3)).content.decode()
        assert last.count("<tr>") == 21 and "第3页，共3页" in last


def test_the_lists_are_limited_per_client_address(world, lists, as_user, settings):
    settings.PUBLIC_DISCLOSURE_RATE = "3/m"
    client = as_user(None)
    for _ in range(3):
        assert client.get(url(world.county)).status_code == 200
    response = client.get(url(world.county, list="supervision"))
    assert response.status_code == 429 and response["Retry-After"] == "60"
    assert "查询过于频繁" in response.content.decode()
    # The index (choosing a place and year) is not counted.
    assert client.get(reverse("disclosure:index")).status_code == 200


def test_the_index_leads_to_a_jurisdiction_and_year(world, lists, as_user):
    client = as_user(None)
    page = client.get(reverse("disclosure:index"))
    assert page.status_code == 200 and "湘西土家族苗族自治州" in page.content.decode()
    response = client.get(reverse("disclosure:index"), {"place": "433101", "year": YEAR})
    assert response.status_code == 302 and response["Location"] == url(world.county)
    assert client.get(reverse("disclosure:list", args=["999999", YEAR])).status_code == 404
    # POST is not a way in.
    assert client.post(url(world.county)).status_code == 405
