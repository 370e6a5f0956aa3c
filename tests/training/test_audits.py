"""Sampled audits of self-reported hours: the policy, the draw (seeded, risk rules), the manager's
answer, the bureau's decision, the deadline, the statistics and their pages."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.errors import DomainError
from notifications.models import Notice
from tests import factories as f
from training import audits, selectors, services, tasks
from training.models import (
    AuditDraw,
    AuditItem,
    AuditPolicy,
    Course,
    HoursRule,
    LockedStudyYear,
    StudyRecord,
)

YEAR = 2026
R = AuditItem.Reason


def policy(world, jurisdiction=None, *, mode="audit", percent=0, day_hours=8, days=14, every=0):
    return audits.audit_policy_set(
        actor=world.prefecture_bureau,
        jurisdiction=jurisdiction or world.county,
        mode=mode,
        sample_percent=Decimal(percent),
        max_hours_per_day=Decimal(day_hours),
        answer_days=days,
        draw_every_days=every,
    )


def hours(manager, year=YEAR):
    return selectors.compliance_for(manager=manager, year=year).hours_year


def reasons_by_record(draw):
    return {item.record_id: item.reasons for item in draw.items.all()}


def course(provider, code, start, end=None, hours=8):
    return Course.objects.create(
        provider=provider,
        code=code,
        title=f"课程 {code}",
        hours=hours,
        mode="online",
        category="law",
        start_date=start,
        end_date=end or start + dt.timedelta(days=30),
    )


# --- the policy --------------------------------------------------------------------------------


def _form_data(on="2026-05-02", hours_="6"):
    return {
        "external_title": "物业法规培训",
        "external_provider": "某协会",
        "completed_on": on,
        "hours": hours_,
        "assessment": "passed",
        "certificate": f.upload("证书.png"),
    }


def test_without_a_policy_a_self_reported_record_waits_and_does_not_count(world, as_user):
    response = as_user(world.manager.user).post(reverse("training:study_record_add"), _form_data())
    assert response.status_code == 302
    record = StudyRecord.objects.get()
    assert record.status == StudyRecord.Status.PENDING
    assert hours(world.manager) == 0


def test_under_an_audit_policy_inherited_from_the_prefecture_it_counts_at_once(world, as_user):
    policy(world, world.prefecture)
    response = as_user(world.manager.user).post(reverse("training:study_record_add"), _form_data())
    assert response.status_code == 302
    record = StudyRecord.objects.get()
    assert record.status == StudyRecord.Status.ACCEPTED and record.counts
    assert hours(world.manager) == Decimal("6")
    # The certificate's content hash is computed at upload.
    import hashlib

    with record.certificate.open("rb") as handle:
        assert record.certificate_sha256 == hashlib.sha256(handle.read()).hexdigest()
    # A county's own policy wins over the prefecture's.
    policy(world, world.county, mode="verify")
    as_user(world.manager.user).post(reverse("training:study_record_add"), _form_data("2026-05-03"))
    assert StudyRecord.objects.latest("pk").status == StudyRecord.Status.PENDING


def test_only_bureau_staff_of_the_jurisdiction_or_above_set_its_policy(world):
    with pytest.raises(PermissionDenied):
        policy_by(world.other_bureau, world.county)
    with pytest.raises(PermissionDenied):
        policy_by(world.manager.user, world.county)
    saved = policy_by(world.bureau, world.county)
    assert (saved.changed_by, saved.mode) == (world.bureau, "audit")
    with pytest.raises(PermissionDenied):  # a county official cannot set the prefecture's
        policy_by(world.bureau, world.prefecture)


def policy_by(actor, jurisdiction):
    return audits.audit_policy_set(
        actor=actor,
        jurisdiction=jurisdiction,
        mode="audit",
        sample_percent=Decimal(10),
        max_hours_per_day=Decimal(8),
        answer_days=14,
    )


def test_the_policy_is_edited_in_the_admin_through_the_service(world, as_user):
    client = as_user(world.bureau)
    response = client.post(
        reverse("admin:training_auditpolicy_add"),
        {
            "jurisdiction": world.county.pk,
            "mode": "audit",
            "sample_percent": "12.5",
            "max_hours_per_day": "10",
            "answer_days": "21",
            "draw_every_days": "0",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    saved = AuditPolicy.objects.get()
    assert (saved.jurisdiction, saved.sample_percent, saved.changed_by) == (
        world.county,
        Decimal("12.5"),
        world.bureau,
    )
    # Another county's official does not see it.
    other = as_user(world.other_bureau).get(
        reverse("admin:training_auditpolicy_change", args=[saved.pk])
    )
    assert other.status_code == 302  # the admin's "does not exist" redirect


# --- the draw ------------------------------------------------------------------------------------


def test_the_draw_is_reproducible_with_its_seed(world):
    policy(world, percent=20)
    managers = [world.manager, *f.bulk_managers(9, "RD", firm=world.firm)]
    for i, manager in enumerate(managers):
        for day in range(5):
            f.self_record(manager, on=dt.date(YEAR, 2 + day, 1 + i), hours=2)

    def sample(seed):
        with transaction.atomic():
            draw = audits.audit_draw(
                actor=world.bureau, jurisdiction=world.county, year=YEAR, seed=seed
            )
            picked = set(draw.items.values_list("record_id", flat=True))
            counts = (draw.seed, draw.population_count, draw.random_count, draw.sampled_count)
            transaction.set_rollback(True)
        return picked, counts

    first, counts = sample(4242)
    assert counts == (4242, 50, 10, 10)
    again, _ = sample(4242)
    other, _ = sample(4243)
    assert first == again
    assert other != first and len(other) == 10
    # Kept: the seed on the draw, the reason on each item.
    draw = audits.audit_draw(actor=world.bureau, jurisdiction=world.county, year=YEAR, seed=4242)
    assert draw.seed == 4242 and draw.drawn_by == world.bureau and draw.trigger == "manual"
    assert set(draw.items.values_list("record_id", flat=True)) == first
    assert {tuple(item.reasons) for item in draw.items.all()} == {("random",)}
    # A record is audited once: a new draw finds nothing left of those ten.
    second = audits.audit_draw(actor=world.bureau, jurisdiction=world.county, year=YEAR, seed=1)
    assert second.population_count == 40
    assert not set(second.items.values_list("record_id", flat=True)) & first


def test_random_sample_rounds_up_and_is_stable():
    ids = list(range(1, 101))
    assert len(audits.random_sample(ids, percent=Decimal("2.5"), seed=7)) == 3
    assert audits.random_sample(ids, percent=Decimal(10), seed=7) == audits.random_sample(
        list(reversed(ids)), percent=Decimal(10), seed=7
    )
    assert audits.random_sample(ids, percent=Decimal(0), seed=7) == set()


def test_each_risk_rule_hits_exactly_the_right_records(world):
    policy(world, percent=0, day_hours=8)
    m = world.manager
    other = f.ManagerProfileFactory(real_name="同县另一人")
    f.employ(other, world.firm)
    provider = f.ProviderFactory(jurisdiction=world.prefecture, approved_from=dt.date(YEAR, 5, 1))
    # More than 8 counted hours on one day: 5 + 4 (both hit), or 3 self-reported next to 6 the
    # provider reported (the self-reported one hits); exactly 8 does not.
    day_a = f.self_record(m, on=dt.date(YEAR, 3, 2), hours=5, title="甲")
    day_b = f.self_record(m, on=dt.date(YEAR, 3, 2), hours=4, title="乙")
    f.study_hours(m, YEAR, 6, on=dt.date(YEAR, 3, 9))
    next_to_provider = f.self_record(m, on=dt.date(YEAR, 3, 9), hours=3)
    exactly_8 = f.self_record(m, on=dt.date(YEAR, 3, 16), hours=8)
    # A pending record on the same day does not count, so it does not add up.
    f.self_record(m, on=dt.date(YEAR, 3, 16), hours=2, status="pending")
    # A course dated after the year ended (its dates moved after the record was entered).
    late = f.self_record(
        other, on=dt.date(YEAR, 12, 30), course=course(provider, "L1", dt.date(YEAR + 1, 1, 5))
    )
    last_day = f.self_record(
        other, on=dt.date(YEAR, 12, 31), course=course(provider, "L2", dt.date(YEAR, 12, 31))
    )
    # Before the provider's approval (1 May): 30 April hits, 1 May does not.
    before = f.self_record(
        other, on=dt.date(YEAR, 4, 30), course=course(provider, "A1", dt.date(YEAR, 4, 1))
    )
    on_approval = f.self_record(
        other, on=dt.date(YEAR, 5, 1), course=course(provider, "A2", dt.date(YEAR, 4, 1))
    )
    # The same certificate file under two managers (one in another county): the county's record
    # hits; the same file twice under one manager does not.
    shared_bytes = f.png_bytes("red")
    shared = f.self_record(m, on=dt.date(YEAR, 6, 1), certificate=shared_bytes)
    f.self_record(world.other_manager, on=dt.date(YEAR, 6, 1), certificate=shared_bytes)
    own_twice = f.png_bytes("blue")
    f.self_record(other, on=dt.date(YEAR, 7, 1), certificate=own_twice)
    f.self_record(other, on=dt.date(YEAR, 7, 2), certificate=own_twice)

    draw = audits.audit_draw(actor=world.bureau, jurisdiction=world.county, year=YEAR)
    assert reasons_by_record(draw) == {
        day_a.pk: [R.DAY_HOURS],
        day_b.pk: [R.DAY_HOURS],
        next_to_provider.pk: [R.DAY_HOURS],
        late.pk: [R.AFTER_YEAR],
        before.pk: [R.BEFORE_APPROVAL],
        shared.pk: [R.SHARED_CERTIFICATE],
    }
    assert draw.rule_hits == {
        "day_hours": 3,
        "after_year": 1,
        "before_approval": 1,
        "shared_certificate": 1,
    }
    assert draw.random_count == 0 and draw.sampled_count == 6
    assert {exactly_8.pk, last_day.pk, on_approval.pk}.isdisjoint(reasons_by_record(draw))
    # Each sampled manager is told once, with how many records and the deadline.
    notice = Notice.objects.get(recipient=m.user, kind=Notice.Kind.AUDIT_REQUESTED)
    assert notice.params == {"year": YEAR, "count": 4, "due_on": draw.due_on.isoformat()}
    assert Notice.objects.get(recipient=other.user).params["count"] == 2
    assert not Notice.objects.filter(recipient=world.other_manager.user).exists()


def test_only_accepted_passed_self_reported_records_of_the_year_and_area_are_drawn(world):
    policy(world, percent=100)
    drawn = f.self_record(world.manager, on=dt.date(YEAR, 3, 1))
    f.self_record(world.manager, on=dt.date(YEAR, 3, 2), status="pending")
    f.self_record(world.manager, on=dt.date(YEAR, 3, 3), status="verified")
    f.self_record(world.manager, on=dt.date(YEAR - 1, 3, 3))
    f.study_hours(world.manager, YEAR, 4)
    failed = f.self_record(world.manager, on=dt.date(YEAR, 3, 4))
    StudyRecord.objects.filter(pk=failed.pk).update(assessment="failed")
    f.self_record(world.other_manager, on=dt.date(YEAR, 3, 1))
    draw = audits.audit_draw(actor=world.bureau, jurisdiction=world.county, year=YEAR)
    assert list(draw.items.values_list("record_id", flat=True)) == [drawn.pk]
    item = draw.items.get()
    assert (item.jurisdiction, item.manager, item.due_on) == (
        world.county,
        world.manager,
        draw.due_on,
    )


def test_only_bureau_staff_covering_the_jurisdiction_draw(world):
    policy(world)
    for actor in (world.other_bureau, world.manager.user, world.reviewer):
        with pytest.raises(PermissionDenied):
            audits.audit_draw(actor=actor, jurisdiction=world.county, year=YEAR)
    assert audits.audit_draw(actor=world.prefecture_bureau, jurisdiction=world.county, year=YEAR)


def test_the_scheduled_draw_runs_every_n_days_once_a_day(world):
    policy(world, percent=100, every=30)
    f.self_record(world.manager, on=dt.date(YEAR, 3, 1))
    day = dt.date(YEAR, 6, 1)
    assert len(audits.audits_draw_scheduled(today=day)) == 1
    assert audits.audits_draw_scheduled(today=day) == []  # the same day again: nothing
    f.self_record(world.manager, on=dt.date(YEAR, 5, 1))
    assert audits.audits_draw_scheduled(today=day + dt.timedelta(days=29)) == []
    later = audits.audits_draw_scheduled(today=day + dt.timedelta(days=30))
    assert len(later) == 1
    draw = AuditDraw.objects.get(pk=later[0])
    assert (draw.trigger, draw.drawn_by, draw.sampled_count) == ("scheduled", None, 1)
    # In the first quarter the previous year is drawn too.
    assert len(audits.audits_draw_scheduled(today=dt.date(YEAR + 1, 2, 1))) == 2


def test_the_beat_schedule_runs_the_audit_task(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["training-audits-daily"]
    assert entry["task"] == tasks.run_audits.name == "training.run_audits"


# --- the answer, the decision, the deadline ----------------------------------------------------


def test_the_manager_sees_the_request_and_answers_with_evidence_before_the_deadline(world, as_user):
    item = f.audit_item(world)
    client = as_user(world.manager.user)
    page = client.get(reverse("training:study_hours") + f"?year={YEAR}")
    assert f'data-testid="audit-item-{item.pk}"' in page.content.decode()
    assert 'data-testid="record-audited"' in page.content.decode()
    # An audited record can no longer be changed by the manager.
    assert reverse("training:study_record_edit", args=[item.record_id]) not in page.content.decode()
    with pytest.raises(DomainError):
        services.study_record_delete(actor=world.manager.user, record=item.record)
    response = client.post(
        reverse("training:audit_answer", args=[item.pk]),
        {"answer": "原件扫描", "evidence": f.upload("证明.png")},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "answered" and item.evidence and item.answer == "原件扫描"
    # A fake file is refused by the shared upload checks.
    fake = f.upload("x.png", b"<html>not an image</html>")
    response = client.post(reverse("training:audit_answer", args=[item.pk]), {"evidence": fake})
    assert response.status_code == 200 and response.context["form"].errors


def test_an_answer_after_the_deadline_or_without_evidence_is_refused(world):
    item = f.audit_item(world)
    with pytest.raises(DomainError):
        audits.audit_answer(actor=world.manager.user, item=item, answer="无", evidence=None)
    with pytest.raises(DomainError):
        audits.audit_answer(
            actor=world.manager.user,
            item=item,
            answer="",
            evidence=f.upload(),
            today=item.due_on + dt.timedelta(days=1),
        )
    with pytest.raises(PermissionDenied):
        audits.audit_answer(
            actor=world.other_manager.user, item=item, answer="", evidence=f.upload()
        )


def test_upheld_stays_counted_and_the_record_is_verified(world, as_user):
    item = f.audit_answered(world)
    assert hours(world.manager) == 4
    response = as_user(world.bureau).post(
        reverse("training:audit_item_decide", args=[item.pk]), {"decision": "upheld", "note": ""}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    record = item.record
    assert (item.status, item.decided_by) == ("upheld", world.bureau)
    assert (record.status, record.verified_by) == ("verified", world.bureau)
    assert hours(world.manager) == 4
    assert Notice.objects.filter(recipient=world.manager.user, kind="audit_upheld").count() == 1
    # The same decision again is harmless; the other one is refused with who decided.
    audits.audit_decide(actor=world.bureau, item=item, upheld=True)
    with pytest.raises(DomainError, match=world.bureau.email):
        audits.audit_decide(actor=world.prefecture_bureau, item=item, upheld=False, note="假证")


def test_rejected_stops_counting_with_the_note(world, as_user):
    item = f.audit_answered(world)
    client = as_user(world.bureau)
    # Rejecting needs a note.
    response = client.post(
        reverse("training:audit_item_decide", args=[item.pk]), {"decision": "rejected"}
    )
    assert response.status_code == 400
    item.refresh_from_db()
    assert item.status == "answered"
    response = client.post(
        reverse("training:audit_item_decide", args=[item.pk]),
        {"decision": "rejected", "note": "证书与培训机构记录不符"},
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.note, item.decided_by) == (
        "rejected",
        "证书与培训机构记录不符",
        world.bureau,
    )
    assert item.record.status == "rejected" and not item.record.counts
    assert hours(world.manager) == 0
    notice = Notice.objects.get(recipient=world.manager.user, kind="audit_rejected")
    assert notice.params["note"] == "证书与培训机构记录不符"


def test_an_unanswered_record_is_rejected_the_day_after_its_deadline_and_stops_counting(
    world, django_capture_on_commit_callbacks
):
    HoursRule.objects.create(jurisdiction=world.province, year=YEAR, annual_minimum=4)
    item = f.audit_item(world)
    assert selectors.compliance_for(manager=world.manager, year=YEAR).compliant
    assert audits.audits_expire(today=item.due_on) == 0  # the last day: still open
    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.run_audits.delay().get()  # today is before the deadline
    assert result["expired"] == 0
    assert audits.audits_expire(today=item.due_on + dt.timedelta(days=1)) == 1
    item.refresh_from_db()
    assert (item.status, item.expired, item.decided_by) == ("rejected", True, None)
    assert item.record.status == "rejected" and item.record.verified_by is None
    compliance = selectors.compliance_for(manager=world.manager, year=YEAR)
    assert compliance.hours_year == 0 and not compliance.compliant
    assert Notice.objects.get(recipient=world.manager.user, kind="audit_rejected").params["expired"]
    # Twice: nothing more.
    assert audits.audits_expire(today=item.due_on + dt.timedelta(days=2)) == 0
    assert Notice.objects.filter(kind="audit_rejected").count() == 1
    # Too late to answer now.
    with pytest.raises(DomainError):
        audits.audit_answer(actor=world.manager.user, item=item, answer="", evidence=f.upload())


def test_an_answered_record_is_not_rejected_at_the_deadline(world):
    item = f.audit_answered(world)
    assert audits.audits_expire(today=item.due_on + dt.timedelta(days=5)) == 0
    item.refresh_from_db()
    assert item.status == "answered"
    # The bureau still decides after the deadline.
    audits.audit_decide(actor=world.bureau, item=item, upheld=True)


def test_a_rejection_in_a_filed_year_still_stops_the_hours_counting(world):
    item = f.audit_answered(world)
    LockedStudyYear.objects.create(manager=world.manager, year=YEAR)
    audits.audit_decide(actor=world.bureau, item=item, upheld=False, note="无效证书")
    assert hours(world.manager) == 0
    assert LockedStudyYear.objects.filter(manager=world.manager, year=YEAR).exists()


def test_a_rejection_after_the_close_decides_the_years_registry_status_again(
    world, django_capture_on_commit_callbacks
):
    import time_machine

    from registry import status as registry_status
    from registry.models import CreditEntry, RegistryStatus

    HoursRule.objects.create(jurisdiction=world.province, year=YEAR, annual_minimum=4)
    item = f.audit_answered(world)
    with time_machine.travel(dt.datetime(YEAR + 1, 4, 1, 9), tick=False):
        registry_status.windows_close(day=dt.date(YEAR + 1, 4, 1), queue=False)
    before = RegistryStatus.objects.get(manager=world.manager, year=YEAR)
    assert "hours_short" not in before.reasons
    audits.audit_decide(actor=world.bureau, item=item, upheld=False, note="无效证书")
    after = RegistryStatus.objects.get(manager=world.manager, year=YEAR)
    assert "hours_short" in after.reasons and after.status == "abnormal"
    entry = CreditEntry.objects.filter(manager=world.manager).latest("pk")
    assert (entry.cause, entry.actor) == (CreditEntry.Cause.AUDIT, world.bureau)


def test_a_decision_by_an_official_of_another_county_is_refused(world):
    item = f.audit_answered(world)
    with pytest.raises(PermissionDenied):
        audits.audit_decide(actor=world.other_bureau, item=item, upheld=True)
    with pytest.raises(PermissionDenied):
        audits.audit_decide(actor=world.manager.user, item=item, upheld=True)
    item.refresh_from_db()
    assert item.status == "answered"


# --- pages -------------------------------------------------------------------------------------


def _state():
    return (
        list(AuditItem.objects.order_by("pk").values_list("status", "decided_at")),
        list(StudyRecord.objects.order_by("pk").values_list("status", "verified_at")),
        AuditDraw.objects.count(),
        Notice.objects.count(),
    )


def test_reading_the_audit_pages_changes_nothing(world, as_user):
    item = f.audit_answered(world)
    before = _state()
    bureau, manager = as_user(world.bureau), as_user(world.manager.user)
    for client, url in [
        (bureau, reverse("training:audit_overview")),
        (bureau, reverse("training:audit_item_list") + f"?year={YEAR}"),
        (bureau, reverse("training:audit_item_detail", args=[item.pk])),
        (bureau, reverse("training:audit_evidence", args=[item.pk])),
        (manager, reverse("training:audit_answer", args=[item.pk])),
        (manager, reverse("training:study_hours") + f"?year={YEAR}"),
    ]:
        assert client.get(url).status_code == 200, url
    for url in (
        reverse("training:audit_draw"),
        reverse("training:audit_item_decide", args=[item.pk]),
    ):
        assert bureau.get(url).status_code == 405
    assert _state() == before


@pytest.mark.parametrize(
    ("role", "expected"),
    [("manager", 403), ("reviewer", 403), ("provider", 403), ("bureau", 200), ("anonymous", 302)],
)
def test_the_audit_overview_is_for_bureau_staff(world, as_user, role, expected):
    user = {
        "manager": world.manager.user,
        "reviewer": world.reviewer,
        "provider": world.provider_user,
        "bureau": world.bureau,
        "anonymous": None,
    }[role]
    assert as_user(user).get(reverse("training:audit_overview")).status_code == expected
    assert as_user(user).post(reverse("training:audit_draw"), {}).status_code in (
        {200: 302}.get(expected, expected),
    )


def test_the_bureau_draws_from_the_page_and_sees_the_sample(world, as_user):
    policy(world, percent=100)
    f.self_record(world.manager, on=dt.date(YEAR, 3, 1))
    client = as_user(world.bureau)
    response = client.post(
        reverse("training:audit_draw"),
        {"jurisdiction": world.county.pk, "year": YEAR, "seed": "77", "percent": ""},
    )
    assert response.status_code == 302
    draw = AuditDraw.objects.get()
    assert (draw.seed, draw.drawn_by, draw.sampled_count) == (77, world.bureau, 1)
    page = client.get(response["Location"])
    assert page.context["page"].paginator.count == 1
    # Another county's official cannot draw for this county (not in his choices).
    client = as_user(world.other_bureau)
    client.post(reverse("training:audit_draw"), {"jurisdiction": world.county.pk, "year": YEAR})
    assert AuditDraw.objects.count() == 1


def test_statistics_per_county(world, as_user):
    policy(world, world.prefecture, percent=100)
    for i in range(3):
        f.self_record(world.manager, on=dt.date(YEAR, 3, 1 + i))
    f.self_record(world.other_manager, on=dt.date(YEAR, 3, 1))
    draw = audits.audit_draw(
        actor=world.prefecture_bureau, jurisdiction=world.prefecture, year=YEAR
    )
    first, second, third = draw.items.filter(manager=world.manager).order_by("pk")
    audits.audit_answer(actor=world.manager.user, item=first, answer="", evidence=f.upload())
    audits.audit_answer(actor=world.manager.user, item=second, answer="", evidence=f.upload())
    audits.audit_decide(actor=world.bureau, item=first, upheld=True)
    audits.audit_decide(actor=world.bureau, item=second, upheld=False, note="不符")
    after_deadline = draw.due_on + dt.timedelta(days=1)
    audits.audits_expire(today=after_deadline)  # the third (and the other county's one)
    stats = {
        row["jurisdiction__name"]: row
        for row in selectors.audit_stats_for(
            user=world.prefecture_bureau, year=YEAR, today=after_deadline
        )
    }
    county = stats["吉首市"]
    assert (
        county["drawn"],
        county["answered"],
        county["upheld"],
        county["rejected"],
        county["expired"],
        county["overdue"],
    ) == (3, 2, 1, 2, 1, 0)
    assert stats["凤凰县"]["rejected"] == 1
    # A county official sees his county only.
    assert [
        row["jurisdiction__name"]
        for row in selectors.audit_stats_for(user=world.bureau, year=YEAR, today=after_deadline)
    ] == ["吉首市"]
    page = as_user(world.prefecture_bureau).get(
        reverse("training:audit_overview") + f"?year={YEAR}"
    )
    assert page.context["totals"]["drawn"] == 4


def test_overdue_counts_what_the_daily_job_has_not_rejected_yet(world):
    item = f.audit_item(world)
    late = item.due_on + dt.timedelta(days=1)
    (row,) = selectors.audit_stats_for(user=world.bureau, year=YEAR, today=late)
    assert (row["overdue"], row["open"]) == (1, 1)


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _many_audits(world, counties: int, per_county: int):
    policy(world, world.prefecture, percent=100)
    for c in range(counties):
        county = f.JurisdictionFactory(code=f"4331{50 + c}", name=f"县{c}", parent=world.prefecture)
        firm = f.FirmFactory(jurisdiction=county)
        for manager in f.bulk_managers(per_county, f"Q{counties}{c}-", firm=firm):
            f.self_record(manager, on=dt.date(YEAR, 4, 1))
    return audits.audit_draw(
        actor=world.prefecture_bureau, jurisdiction=world.prefecture, year=YEAR
    )


def test_the_statistics_and_the_list_do_not_query_per_county_or_row(
    world, as_user, django_assert_max_num_queries
):
    client = as_user(world.prefecture_bureau)
    overview = reverse("training:audit_overview") + f"?year={YEAR}"
    listing = reverse("training:audit_item_list") + f"?year={YEAR}"
    _many_audits(world, 1, 2)
    few = _queries(client, overview), _queries(client, listing)
    draw = _many_audits(world, 6, 10)
    assert draw.sampled_count == 60
    with django_assert_max_num_queries(few[0]):
        page = client.get(overview)
    assert len(page.context["stats"]) == 6  # the first county again, and five more
    with django_assert_max_num_queries(few[1]):
        page = client.get(listing)
    assert page.context["page"].paginator.count == 62


def test_the_managers_hours_page_does_not_query_per_audit(
    world, as_user, django_assert_max_num_queries
):
    policy(world, percent=100)
    client = as_user(world.manager.user)
    url = reverse("training:study_hours") + f"?year={YEAR}"
    f.self_record(world.manager, on=dt.date(YEAR, 1, 1))
    audits.audit_draw(actor=world.bureau, jurisdiction=world.county, year=YEAR)
    few = _queries(client, url)
    for i in range(30):
        f.self_record(world.manager, on=dt.date(YEAR, 2 + i % 10, 1 + i), title=f"课{i}")
    audits.audit_draw(actor=world.bureau, jurisdiction=world.county, year=YEAR)
    with django_assert_max_num_queries(few):
        page = client.get(url)
    assert len(page.context["audit_items"]) == 31


def test_a_record_the_provider_reported_meanwhile_is_upheld_at_the_deadline(world):
    item = f.audit_item(world)
    # The provider's report replaced the manager's own record of the course (training.imports).
    StudyRecord.objects.filter(pk=item.record_id).update(source="provider", status="verified")
    assert audits.audits_expire(today=item.due_on + dt.timedelta(days=1)) == 1
    item.refresh_from_db()
    assert (item.status, item.expired, item.decided_by) == ("upheld", False, None)
    assert item.record.status == "verified" and hours(world.manager) == 4
    assert not Notice.objects.filter(kind="audit_rejected").exists()


def test_the_hash_command_hashes_the_certificates_stored_before(world):
    record = f.self_record(world.manager, on=dt.date(YEAR, 3, 1))
    missing = f.self_record(world.manager, on=dt.date(YEAR, 3, 2))
    expected = record.certificate_sha256
    StudyRecord.objects.update(certificate_sha256="")
    missing.certificate.storage.delete(missing.certificate.name)
    out = io.StringIO()
    call_command("hash_stored_files", stdout=out)
    record.refresh_from_db()
    missing.refresh_from_db()
    assert (record.certificate_sha256, missing.certificate_sha256) == (expected, "")
    assert (
        "1 certificate(s);" in out.getvalue() and "0 proof(s), 1 certificate(s)" in out.getvalue()
    )
    call_command("hash_stored_files", stdout=out)  # again: only the missing file is tried
    record.refresh_from_db()
    assert record.certificate_sha256 == expected


def test_an_open_audit_of_another_year_shows_on_the_hours_page(world, as_user):
    item = f.audit_item(world, on=dt.date(YEAR - 1, 11, 1))
    html = (
        as_user(world.manager.user)
        .get(reverse("training:study_hours") + f"?year={YEAR}")
        .content.decode()
    )
    assert f'data-testid="audit-item-{item.pk}"' in html
    assert f'data-testid="study-record-{item.record_id}"' not in html  # not in this year's table
