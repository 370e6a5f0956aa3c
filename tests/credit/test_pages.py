"""The credit pages: the manager's file (every point explained), the bureau's queue and list;
POST only, scoped, a fixed number of queries."""

import datetime as dt

import pytest
from django.urls import reverse

from credit import services
from credit.models import Objection, SupervisionEntry
from credit.scoring import scores_recompute
from tests import factories as f

from .conftest import approved, decided, failed_assessment, record


@pytest.fixture
def filed(world):
    for year in (2024, 2025, 2026):
        decided(world.manager, year, reasons=["hours_short"] if year == 2025 else [])
        approved(world.manager, year, on=dt.date(year + 1, 2, 1))
    record(world.manager, "bad", start=dt.date(2027, 2, 1))
    record(world.manager, "good", start=dt.date(2027, 2, 1))
    failed_assessment(world.manager, dt.date(2027, 4, 1))
    scores_recompute()
    return world.manager


def test_manager_sees_each_point_explained(world, as_user, filed):
    page = as_user(world.manager.user).get(reverse("credit:my_credit"))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="credit-grade">A<' in text  # 80 + 10 − 10 − 5 = 75
    for label in (
        "信息完整并经企业确认",
        "年度登记备案按时通过",
        "学时不足",
        "良好执业记录",
        "不良执业记录",
        "培训考核不合格",
    ):
        assert label in text
    assert "+30" in text and "-10" in text


def test_manager_page_in_chinese(world, as_user, filed):
    text = as_user(world.manager.user).get(reverse("credit:my_credit")).content.decode()
    assert "我的信用档案" in text
    assert "年度登记备案按时通过" in text


def test_manager_page_queries_do_not_grow(world, as_user, filed, django_assert_max_num_queries):
    client = as_user(world.manager.user)
    for i in range(8):
        record(world.manager, "bad", start=dt.date(2027, 3, 1 + i))
        record(world.manager, "good", start=dt.date(2027, 3, 1 + i))
    scores_recompute()
    for status in world.manager.registry_statuses.filter(status="abnormal"):
        services.objection_submit(
            actor=world.manager.user, target="status", pk=status.pk, reason="x"
        )
    with django_assert_max_num_queries(25):
        assert client.get(reverse("credit:my_credit")).status_code == 200


def test_objection_through_the_page(world, as_user, filed):
    status = world.manager.registry_statuses.get(year=2025)
    client = as_user(world.manager.user)
    url = reverse("credit:objection_submit")
    assert client.get(url).status_code == 405
    response = client.post(
        url, {"target": "status", "pk": status.pk, "reason": "已完成学时", "evidence": f.upload()}
    )
    assert response.status_code == 302
    objection = Objection.objects.get()
    assert (objection.registry_status, objection.evidence_name) == (status, "证件.png")
    page = client.get(reverse("credit:my_credit")).content.decode()
    assert objection.due_on.strftime("%Y") in page


def test_objection_to_another_managers_status_is_404(world, as_user):
    other = decided(world.other_manager, reasons=["not_filed"])
    response = as_user(world.manager.user).post(
        reverse("credit:objection_submit"), {"target": "status", "pk": other.pk, "reason": "x"}
    )
    assert response.status_code == 404
    assert not Objection.objects.exists()


def test_bureau_queue_lists_pending_in_reach_only(
    world, as_user, filed, django_assert_max_num_queries
):
    for status in world.manager.registry_statuses.all():
        if status.status == "abnormal":
            services.objection_submit(
                actor=world.manager.user, target="status", pk=status.pk, reason="x"
            )
    for _i in range(5):
        m = f.ManagerProfileFactory()
        f.employ(m, world.firm)
        s = decided(m, reasons=["not_filed"])
        services.objection_submit(actor=m.user, target="status", pk=s.pk, reason="x")
    client = as_user(world.bureau)
    with django_assert_max_num_queries(20):
        page = client.get(reverse("credit:bureau_queue"))
    assert page.content.decode().count('action="/bureau/credit/objections/') == 6
    other = as_user(world.other_bureau).get(reverse("credit:bureau_queue")).content.decode()
    assert "/bureau/credit/objections/" not in other
    assert as_user(world.manager.user).get(reverse("credit:bureau_queue")).status_code == 403


def test_bureau_decides_through_the_page(world, as_user, filed):
    status = world.manager.registry_statuses.get(year=2025)
    objection = services.objection_submit(
        actor=world.manager.user, target="status", pk=status.pk, reason="x"
    )
    response = as_user(world.bureau).post(
        reverse("credit:objection_decide", args=[objection.pk]),
        {"decision": "uphold", "reason": "核实无误"},
    )
    assert response.status_code == 302
    objection.refresh_from_db()
    assert objection.status == "upheld"


def test_bureau_lists_by_registration_number_and_sees_the_list(
    world, as_user, django_assert_max_num_queries
):
    client = as_user(world.bureau)
    url = reverse("credit:supervision_add")
    assert client.get(url).status_code == 405
    client.post(
        url,
        {"registration_number": world.manager.registration_number, "reason": "投诉", "days": 30},
    )
    entry = SupervisionEntry.objects.get()
    assert (entry.manager, entry.listed_by) == (world.manager, world.bureau)
    # Someone outside the official's jurisdiction is not found.
    client.post(
        url, {"registration_number": world.other_manager.registration_number, "reason": "x"}
    )
    assert SupervisionEntry.objects.count() == 1
    for _i in range(6):
        m = f.ManagerProfileFactory()
        f.employ(m, world.firm)
        services.supervision_list(actor=world.bureau, manager=m, reason="x")
    with django_assert_max_num_queries(15):
        page = client.get(reverse("credit:bureau_supervision")).content.decode()
    assert world.manager.real_name in page
    assert (
        world.manager.real_name
        not in as_user(world.other_bureau)
        .get(reverse("credit:bureau_supervision"))
        .content.decode()
    )


def test_the_entry_shows_on_the_managers_page(world, as_user):
    services.supervision_list(
        actor=world.bureau, manager=world.manager, reason="内部", public_reason="服务投诉"
    )
    page = as_user(world.manager.user).get(reverse("credit:my_credit")).content.decode()
    assert "服务投诉" in page and 'data-testid="supervision-entries"' in page


def test_anonymous_is_sent_to_log_in(client):
    for name in ("credit:my_credit", "credit:bureau_queue", "credit:bureau_supervision"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert "login" in response["Location"]


def test_managers_page_shows_grade_and_entry_to_firm_and_bureau(world, as_user, filed):
    services.supervision_list(
        actor=world.bureau, manager=world.manager, reason="内部核查意见", public_reason="服务投诉"
    )
    url = reverse("overview:manager_detail", args=[world.manager.pk])
    firm_page = as_user(world.reviewer).get(url).content.decode()
    assert 'data-testid="credit-grade">A<' in firm_page
    assert "服务投诉" in firm_page
    assert "内部核查意见" not in firm_page
    assert "年度登记备案按时通过" not in firm_page  # the points: not for firms
    bureau_page = as_user(world.bureau).get(url).content.decode()
    assert "内部核查意见" in bureau_page and "年度登记备案按时通过" in bureau_page
