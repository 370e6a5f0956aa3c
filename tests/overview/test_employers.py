"""Employers see it (issue 17, item 6): the firm's manager list with each manager's grade and
key-supervision entry (no query per row), the share at each grade on the firm's overview, the
public credit record before confirming an employment, and notices to the firm's reviewers when
an employee's status or grade changes."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Employment
from credit.models import CreditScore, SupervisionEntry
from notifications.models import Notice
from registry.models import CreditEntry, RegistryStatus
from registry.status import registry_status_refresh
from tests import factories as f


def scored(manager, grade, *, year=2026, score=75):
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


def listed(manager, *, by, ended=False):
    today = timezone.localdate()
    return SupervisionEntry.objects.create(
        manager=manager,
        cause="abnormal_twice",
        reason="内部：连续两年异常，另有投诉线索",
        public_reason="连续两年执业状态异常",
        starts_on=today - dt.timedelta(days=10),
        ends_on=today + dt.timedelta(days=300),
        jurisdiction=manager.jurisdiction,
        listed_by=by,
        listed_at=timezone.now(),
        ended_at=timezone.now() if ended else None,
    )


def test_the_firms_manager_list_shows_grades_and_list_entries_without_a_query_per_row(
    world, as_user, django_assert_max_num_queries
):
    managers = f.bulk_managers(45, "员工", firm=world.firm)
    for i, manager in enumerate(managers):
        scored(manager, "AAA" if i % 2 else "B")
        if i % 3 == 0:
            listed(manager, by=world.bureau)
    scored(world.manager, "C")
    listed(world.manager, by=world.bureau, ended=True)  # taken off: no badge
    client = as_user(world.reviewer)
    client.get(reverse("overview:firm_managers"))  # warm the session
    with django_assert_max_num_queries(12):
        html = client.get(reverse("overview:firm_managers")).content.decode()
    assert f'data-testid="grade-{managers[1].pk}"' in html
    cell = html[html.index(f'data-testid="grade-{managers[0].pk}"') :][:400]
    assert ">B<" in cell and "重点监管" in cell
    mine = html[html.index(f'data-testid="grade-{world.manager.pk}"') :][:300]
    assert ">C<" in mine and "supervision-" not in mine
    # Another firm's reviewer sees none of them.
    other = as_user(world.other_reviewer).get(reverse("overview:firm_managers")).content.decode()
    assert "员工1" not in other


def test_the_firms_overview_shows_the_share_at_each_grade(world, as_user):
    for grade in ("AAA", "AAA", "B"):
        manager = f.ManagerProfileFactory()
        f.employ(manager, world.firm)
        scored(manager, grade)
    scored(world.other_manager, "C")  # another firm's: not counted
    html = as_user(world.reviewer).get(reverse("overview:firm_dashboard")).content.decode()
    box = html[html.index('data-testid="firm-grades"') :]
    assert "66.7%" in box and "33.3%" in box and ">C</div><div>0<" in box


@pytest.fixture
def request_to_confirm(world):
    newcomer = f.ManagerProfileFactory(real_name="求职者")
    past = f.FirmFactory(jurisdiction=world.county)
    Employment.objects.create(
        manager=newcomer,
        firm=past,
        status=Employment.Status.ENDED,
        start_date=dt.date(2020, 1, 1),
        end_date=dt.date(2026, 10, 1),
        requested_by=newcomer.user,
    )
    newcomer.jurisdiction = world.county
    newcomer.save(update_fields=["jurisdiction"])
    RegistryStatus.objects.create(
        manager=newcomer,
        year=2025,
        status="abnormal",
        reasons=["hours_short", "bad_conduct"],
        jurisdiction=world.county,
        closed_on=dt.date(2026, 3, 31),
        decided_at=timezone.now(),
        updated_at=timezone.now(),
    )
    hidden = f.conduct_record(newcomer, public=False, start=dt.date(2025, 5, 1), by=world.bureau)
    hidden.summary = "未公开的内部记录"
    hidden.save()
    shown = f.conduct_record(newcomer, public=True, start=timezone.localdate(), by=world.bureau)
    shown.summary = "公开的不良记录"
    shown.save()
    scored(newcomer, "C", year=2025)
    listed(newcomer, by=world.bureau)
    return Employment.objects.create(
        manager=newcomer,
        firm=world.firm,
        status=Employment.Status.REQUESTED,
        requested_by=newcomer.user,
    )


def test_before_confirming_the_reviewer_sees_the_public_credit_record(
    world, request_to_confirm, as_user
):
    client = as_user(world.reviewer)
    queue = client.get(reverse("accounts:firm_employment")).content.decode()
    review = reverse("overview:employment_review", args=[request_to_confirm.pk])
    assert review in queue  # the way to confirm goes through the record
    html = client.get(review).content.decode()
    assert "求职者" in html and "学时未达到要求" in html
    assert "公开的不良记录" in html and "未公开的内部记录" not in html
    assert "连续两年执业状态异常" in html and "投诉线索" not in html
    assert 'data-testid="review-confirm"' in html and ">C<" in html
    assert request_to_confirm.manager.id_number not in html
    assert as_user(world.other_reviewer).get(review).status_code == 404
    # Confirming still goes through the accounts service (POST).
    confirm = reverse("accounts:employment_action", args=[request_to_confirm.pk, "confirm"])
    assert client.post(confirm).status_code == 302
    request_to_confirm.refresh_from_db()
    assert request_to_confirm.status == Employment.Status.ACTIVE


def test_a_change_of_status_is_told_to_the_firms_reviewers(world, closing_day_status):
    manager = world.manager
    f.conduct_record(manager, public=False, start=dt.date(2026, 5, 1), by=world.bureau)
    registry_status_refresh(
        manager=manager, year=2026, cause=CreditEntry.Cause.CONDUCT, actor=world.bureau
    )
    notices = Notice.objects.filter(kind=Notice.Kind.FIRM_STATUS_CHANGED)
    assert set(notices.values_list("recipient", flat=True)) == {world.reviewer.pk}
    notice = notices.get()
    assert notice.params == {"year": 2026, "name": "彭建国", "status": "abnormal"}
    # Only the status: the reason (a record that is not public) is not in the notice.
    assert "bad_conduct" not in str(notice.params)


@pytest.fixture
def closing_day_status(world):
    return RegistryStatus.objects.create(
        manager=world.manager,
        year=2026,
        status="normal",
        reasons=[],
        jurisdiction=world.county,
        closed_on=dt.date(2027, 3, 31),
        decided_at=timezone.now(),
        updated_at=timezone.now(),
    )


def test_a_change_of_grade_is_told_to_the_firms_reviewers_once_per_run(world):
    from django.db import connection

    from overview.notices import grade_change_notices

    second = f.ManagerProfileFactory(real_name="第二人")
    f.employ(second, world.firm)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE t_changes (manager_id bigint, old_grade varchar, new_grade varchar)"
        )
        cursor.execute(
            "INSERT INTO t_changes VALUES (%s, 'A', 'C'), (%s, 'B', 'A'), (%s, NULL, 'B')",
            [world.manager.pk, second.pk, world.other_manager.pk],
        )
    now = timezone.now()
    ids = grade_change_notices("t_changes", now)
    assert len(ids) == 1  # one reviewer of firm A; the other firm's only change is a first grade
    notice = Notice.objects.get(pk=ids[0])
    assert notice.recipient == world.reviewer and notice.kind == Notice.Kind.FIRM_GRADE_CHANGED
    assert notice.params == {"count": 2, "names": ["彭建国", "第二人"]}
    assert grade_change_notices("t_changes", now) == []  # the same run twice: once


def test_the_recompute_tells_the_firm_when_a_grade_changes(world):
    """End to end: the credit recompute's hook (registered by overview at start-up)."""
    from credit.scoring import scores_recompute
    from tests.credit.conftest import CLOSE, TODAY, at, decided, record
    from tests.credit.conftest import approved as approved_filing

    with at(TODAY):
        decided(world.manager, closed_on=CLOSE)
        approved_filing(world.manager)
        scores_recompute(today=TODAY)
        first = CreditScore.objects.get(manager=world.manager, latest=True).grade
        assert not Notice.objects.filter(kind=Notice.Kind.FIRM_GRADE_CHANGED).exists()
        record(world.manager, severity="serious", start=dt.date(2027, 5, 1))
        scores_recompute(today=TODAY)
    now = CreditScore.objects.get(manager=world.manager, latest=True).grade
    assert now != first
    notice = Notice.objects.get(kind=Notice.Kind.FIRM_GRADE_CHANGED)
    assert notice.recipient == world.reviewer and notice.params["names"] == ["彭建国"]
