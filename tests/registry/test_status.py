"""Closing the window: the year's registry status, the credit record, conduct records."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from accounts.models import ManagerProfile
from notifications.models import Notice
from registry import services, status
from registry.models import (
    AnnualFiling,
    ConductRecord,
    CreditEntry,
    FilingExtension,
    RegistryStatus,
)
from tests import factories as f
from training.models import HoursRule

SH = ZoneInfo("Asia/Shanghai")
YEAR = 2026
CLOSED = dt.date(2027, 4, 1)  # the day after the default window's last day
S = RegistryStatus.Status


def at(day: dt.date, hour: int = 9):
    return time_machine.travel(dt.datetime.combine(day, dt.time(hour), tzinfo=SH), tick=False)


def submit(world, manager, day=dt.date(2027, 2, 1)):
    with at(day):
        filing = services.filing_start(actor=manager.user, year=YEAR)
        f.add_proofs(filing)
        return services.filing_submit(actor=manager.user, filing=filing)


def approve(world, filing, day=dt.date(2027, 2, 2)):
    with at(day):
        filing = services.filing_firm_approve(actor=world.reviewer, filing=filing)
        return services.filing_bureau_approve(actor=world.bureau, filing=filing)


def conduct(world, manager, *, kind="bad", start=dt.date(2026, 5, 1), until=None, public=True):
    """A conduct record entered by the world's bureau official, through the service."""
    record = f.conduct_record(
        manager, kind=kind, start=start, until=until, public=public, save=False
    )
    return services.conduct_record_save(actor=world.bureau, record=record)


@pytest.fixture
def closing(world, django_capture_on_commit_callbacks):
    """`closing()` runs the closing as on 1 April 2027 (e-mails sent in-process)."""
    HoursRule.objects.create(jurisdiction=world.province, year=YEAR, annual_minimum=24)

    def run(day=CLOSED):
        with at(day), django_capture_on_commit_callbacks(execute=True):
            return status.windows_close(day=day)

    return run


def status_of(manager):
    return RegistryStatus.objects.get(manager=manager, year=YEAR)


def test_each_manager_gets_the_years_status_with_its_reasons(world, closing):
    f.study_hours(world.manager, YEAR, 30)
    approve(world, submit(world, world.manager))
    # The other manager: submitted, short of hours, and returned by his firm before the close.
    f.study_hours(world.other_manager, YEAR, 10)
    filing = submit(world, world.other_manager)
    with at(dt.date(2027, 2, 3)):
        services.filing_firm_return(actor=world.other_reviewer, filing=filing, reason="合同不清")
    third = f.ManagerProfileFactory(real_name="田小明")
    f.employ(third, world.firm)
    f.study_hours(third, YEAR, 40)
    conduct(world, third)

    result = closing()

    assert result.decided == {"normal": 1, "abnormal": 2}
    assert status_of(world.manager).status == S.NORMAL and status_of(world.manager).reasons == []
    other = status_of(world.other_manager)
    assert other.status == S.ABNORMAL
    assert other.reasons == ["not_approved", "hours_short"]
    assert status_of(third).reasons == ["not_filed", "bad_conduct"]
    assert status_of(third).closed_on == dt.date(2027, 3, 31)
    # Written to the credit record, by nobody (the closing).
    entries = CreditEntry.objects.filter(cause=CreditEntry.Cause.WINDOW_CLOSED)
    assert entries.count() == 3 and not entries.filter(actor__isnull=False).exists()


def test_abnormal_managers_and_their_firms_are_told_once(world, closing):
    f.study_hours(world.manager, YEAR, 30)
    approve(world, submit(world, world.manager))
    closing()
    notices = Notice.objects.filter(
        kind__in=[Notice.Kind.STATUS_ABNORMAL, Notice.Kind.FIRM_ABNORMAL]
    )
    got = sorted(notices.values_list("recipient_id", "kind"))
    assert got == sorted(
        [
            (world.other_manager.user_id, Notice.Kind.STATUS_ABNORMAL),
            (world.other_reviewer.pk, Notice.Kind.FIRM_ABNORMAL),
        ]
    )
    firm_notice = notices.get(kind=Notice.Kind.FIRM_ABNORMAL)
    assert firm_notice.params["count"] == 1
    mine = notices.get(kind=Notice.Kind.STATUS_ABNORMAL)
    assert mine.params["reasons"] == ["not_filed", "hours_short"]
    sent = len(mail.outbox)
    assert sent == 2
    # Run again (the next day, by hand): nothing decided, nobody told twice.
    again = closing(dt.date(2027, 4, 2))
    assert sum(again.decided.values()) == 0
    assert len(mail.outbox) == sent and notices.count() == 2
    assert RegistryStatus.objects.count() == 2 and CreditEntry.objects.count() == 2


def test_nothing_is_decided_before_the_window_has_closed(world, closing):
    assert sum(closing(dt.date(2027, 3, 31)).decided.values()) == 0
    assert not RegistryStatus.objects.exists()


def test_a_manager_registered_after_the_close_is_not_judged_for_that_year(world, closing):
    late = f.ManagerProfileFactory(real_name="晚注册")
    f.employ(late, world.firm)
    ManagerProfile.objects.filter(pk=late.pk).update(
        completed_at=dt.datetime(2027, 4, 10, tzinfo=SH),
        registered_at=dt.datetime(2027, 4, 10, tzinfo=SH),
    )
    closing(dt.date(2027, 4, 11))
    assert not RegistryStatus.objects.filter(manager=late).exists()
    assert RegistryStatus.objects.filter(manager=world.manager).exists()


def test_a_late_approval_turns_the_status_back_to_normal_and_is_recorded(world, closing):
    f.study_hours(world.manager, YEAR, 30)
    filing = submit(world, world.manager, day=dt.date(2027, 3, 20))
    with at(dt.date(2027, 3, 21)):
        services.filing_firm_return(actor=world.reviewer, filing=filing, reason="合同不清")
    closing()  # returned ten days before the close: no grace period, not resubmitted
    assert status_of(world.manager).reasons == ["not_approved"]
    # He resubmits within an extension the bureau grants; the bureau approves on 10 May.
    FilingExtension.objects.create(
        manager=world.manager,
        year=YEAR,
        until=dt.date(2027, 5, 20),
        reason="补正材料",
        granted_by=world.bureau,
    )
    with at(dt.date(2027, 5, 2)):
        services.filing_submit(actor=world.manager.user, filing=filing)
        services.filing_firm_approve(actor=world.reviewer, filing=filing)
    with at(dt.date(2027, 5, 10)):
        services.filing_bureau_approve(actor=world.bureau, filing=filing)
    status = status_of(world.manager)
    assert status.status == S.NORMAL and status.reasons == []
    entry = CreditEntry.objects.filter(manager=world.manager).first()
    assert (entry.cause, entry.previous_status, entry.status, entry.actor) == (
        CreditEntry.Cause.LATE_APPROVAL,
        S.ABNORMAL,
        S.NORMAL,
        world.bureau,
    )
    assert Notice.objects.filter(
        recipient=world.manager.user, kind=Notice.Kind.STATUS_NORMAL, year=YEAR
    ).exists()


def test_an_extension_filing_approved_late_makes_the_status_normal(world, closing):
    f.study_hours(world.manager, YEAR, 30)
    closing()
    assert status_of(world.manager).reasons == ["not_filed"]
    FilingExtension.objects.create(
        manager=world.manager,
        year=YEAR,
        until=dt.date(2027, 4, 30),
        reason="因病住院",
        granted_by=world.bureau,
    )
    filing = submit(world, world.manager, day=dt.date(2027, 4, 20))
    approve(world, filing, day=dt.date(2027, 4, 21))
    assert status_of(world.manager).status == S.NORMAL
    causes = list(
        CreditEntry.objects.filter(manager=world.manager)
        .order_by("created_at")
        .values_list("cause", "status")
    )
    assert causes == [("window_closed", "abnormal"), ("late_approval", "normal")]


def test_a_late_approval_with_hours_still_short_stays_abnormal_with_the_reason_updated(
    world, closing
):
    f.study_hours(world.manager, YEAR, 10)
    filing = submit(world, world.manager)
    closing()
    approve(world, filing, day=dt.date(2027, 4, 5))
    status = status_of(world.manager)
    assert status.status == S.ABNORMAL and status.reasons == ["hours_short"]
    assert not Notice.objects.filter(kind=Notice.Kind.STATUS_NORMAL).exists()


def test_a_bad_conduct_record_entered_after_the_close_changes_the_status(world, closing):
    f.study_hours(world.manager, YEAR, 30)
    approve(world, submit(world, world.manager))
    closing()
    assert status_of(world.manager).status == S.NORMAL
    with at(dt.date(2027, 5, 1)):
        record = conduct(world, world.manager, start=dt.date(2026, 11, 1))
    assert status_of(world.manager).reasons == ["bad_conduct"]
    assert CreditEntry.objects.filter(
        manager=world.manager, cause="conduct", actor=world.bureau, status="abnormal"
    ).exists()
    # The bureau ends the record before the year began (it was entered in error): normal again.
    record.effective_from = dt.date(2025, 1, 1)
    record.effective_until = dt.date(2025, 12, 31)
    services.conduct_record_save(actor=world.bureau, record=record)
    assert status_of(world.manager).status == S.NORMAL


def test_good_conduct_and_bad_conduct_outside_the_year_do_not_count(world, closing):
    f.study_hours(world.manager, YEAR, 30)
    approve(world, submit(world, world.manager))
    conduct(world, world.manager, kind="good")
    conduct(world, world.manager, start=dt.date(2024, 1, 1), until=dt.date(2025, 12, 31))
    conduct(world, world.manager, start=dt.date(2027, 5, 1))  # after the close
    closing()
    assert status_of(world.manager).status == S.NORMAL


def test_only_bureau_staff_of_the_managers_jurisdiction_record_conduct(world):
    from django.core.exceptions import PermissionDenied

    for actor in (world.other_bureau, world.reviewer, world.manager.user):
        with pytest.raises(PermissionDenied):
            conduct(type("W", (), {"bureau": actor})(), world.manager)
    assert not ConductRecord.objects.exists()
    conduct(type("W", (), {"bureau": world.prefecture_bureau})(), world.manager)
    assert ConductRecord.objects.get().recorded_by == world.prefecture_bureau


def test_the_close_command_by_hand(world, capsys):
    call_command("close_windows", "--date", "2027-04-01", "--dry-run")
    assert "2 abnormal" in capsys.readouterr().out
    assert not RegistryStatus.objects.exists()
    call_command("close_windows", "--date", "2027-04-01", "--year", "2026")
    assert "0 normal, 2 abnormal" in capsys.readouterr().out
    assert RegistryStatus.objects.count() == 2


# --- pages --------------------------------------------------------------------------------


def test_the_manager_sees_his_credit_record_with_every_conduct_record(
    world, closing, as_user, django_assert_max_num_queries
):
    conduct(world, world.manager, public=False)
    conduct(world, world.manager, kind="good", start=dt.date(2026, 9, 1))
    closing()
    client = as_user(world.manager.user)
    with django_assert_max_num_queries(20):
        html = client.get(reverse("registry:credit_record")).content.decode()
    assert "Abnormal" in html or "异常" in html
    assert "物业服务投诉查实" in html and "优秀项目经理" in html
    assert reverse("registry:conduct_evidence", args=[ConductRecord.objects.first().pk]) in html
    dashboard = client.get(reverse("overview:manager_dashboard")).content.decode()
    assert 'data-testid="dashboard-credit"' in dashboard and "2026" in dashboard


def test_a_firm_sees_only_public_conduct_records_of_its_managers_and_no_evidence(world, as_user):
    conduct(world, world.manager, public=False)
    public = conduct(world, world.manager, kind="good", start=dt.date(2026, 9, 1))
    html = (
        as_user(world.reviewer)
        .get(reverse("overview:manager_detail", args=[world.manager.pk]))
        .content.decode()
    )
    assert "优秀项目经理" in html and "物业服务投诉查实" not in html
    assert reverse("registry:conduct_evidence", args=[public.pk]) not in html
    response = as_user(world.reviewer).get(reverse("registry:conduct_evidence", args=[public.pk]))
    assert response.status_code in (403, 404)


def test_evidence_is_served_to_the_manager_and_the_bureau_only(world, as_user):
    record = conduct(world, world.manager)
    url = reverse("registry:conduct_evidence", args=[record.pk])
    assert as_user(world.manager.user).get(url).status_code == 200
    assert as_user(world.bureau).get(url)["Content-Type"] == "image/png"
    assert as_user(world.prefecture_bureau).get(url).status_code == 200
    for outsider in (world.other_bureau, world.other_manager.user, world.other_reviewer):
        assert as_user(outsider).get(url).status_code in (403, 404)
    assert as_user(None).get(url).status_code == 302


def test_the_public_check_shows_the_status_and_only_public_conduct_in_force(
    world, closing, as_user
):
    f.study_hours(world.manager, YEAR, 30)
    filing = approve(world, submit(world, world.manager))
    conduct(world, world.manager, kind="good", start=dt.date(2026, 9, 1))
    conduct(world, world.manager, public=False)
    conduct(world, world.manager, start=dt.date(2024, 1, 1), until=dt.date(2024, 12, 31))
    closing()
    with at(dt.date(2027, 4, 2)):
        html = (
            as_user(None)
            .get(reverse("registry:verify", args=[filing.certificate_code]))
            .content.decode()
        )
    assert 'data-testid="registry-status"' in html
    assert "优秀项目经理" in html
    # The record that is not public counts in the status, but neither its content nor its
    # reason is shown: the status reads "ask the bureau"; the public one ended in 2024.
    assert "物业服务投诉查实" not in html
    from django.utils import translation

    from registry.models import StatusReason

    with translation.override("zh-hans"):
        assert str(StatusReason.BAD_CONDUCT.label) not in html
    assert "异常（请向主管部门咨询）" in html


def test_the_admin_records_conduct_with_evidence_and_refuses_a_fake_file(
    world, as_user, mfa, closing
):
    client = as_user(mfa(world.bureau))
    url = reverse("admin:registry_conductrecord_add")
    data = {
        "manager": world.manager.pk,
        "kind": "bad",
        "occurred_on": "2026-06-01",
        "summary": "未按规定公示收费标准",
        "details": "",
        "effective_from": "2026-06-01",
        "effective_until": "",
        "public": "on",
    }
    fake = f.upload("决定书.pdf", b"MZ\x90\x00" + b"\x00" * 200)
    response = client.post(url, {**data, "evidence": fake})
    assert response.status_code == 200
    assert not ConductRecord.objects.exists()
    assert (
        "Only PDF, JPEG or PNG" in response.content.decode()
        or "仅接受" in response.content.decode()
    )
    response = client.post(url, {**data, "evidence": f.upload("决定书.png")})
    assert response.status_code == 302, response.content.decode()[:2000]
    record = ConductRecord.objects.get()
    assert (record.recorded_by, record.evidence_name) == (world.bureau, "决定书.png")
    # Another county's official does not see it, nor can he pick the manager.
    other = as_user(mfa(world.other_bureau))
    change = reverse("admin:registry_conductrecord_change", args=[record.pk])
    assert other.get(change).status_code in (302, 404)
    response = other.post(url, {**data, "evidence": f.upload("决定书.png")})
    assert ConductRecord.objects.count() == 1


def test_the_status_list_in_the_admin_is_scoped_and_does_not_query_per_row(
    world, closing, as_user, mfa, django_assert_max_num_queries
):
    f.bulk_managers(40, "s", firm=world.firm)
    closing()
    client = as_user(mfa(world.bureau))
    url = reverse("admin:registry_registrystatus_changelist")
    with django_assert_max_num_queries(25):
        html = client.get(url).content.decode()
    assert world.manager.real_name in html
    assert world.other_manager.real_name not in html  # another county
    status = status_of(world.manager)
    detail = client.get(reverse("admin:registry_registrystatus_change", args=[status.pk]))
    assert detail.status_code == 200
    assert client.get(
        reverse("admin:registry_registrystatus_change", args=[status_of(world.other_manager).pk])
    ).status_code in (302, 404)
    assert AnnualFiling.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "expected"),
    [("reviewer", 403), ("bureau", 403), ("provider_user", 403), ("anonymous", 302)],
)
def test_the_credit_record_page_is_the_managers_own(world, as_user, role, expected):
    user = None if role == "anonymous" else getattr(world, role)
    assert as_user(user).get(reverse("registry:credit_record")).status_code == expected


def test_anyone_looks_up_a_manager_by_registration_number_and_name(world, closing, as_user):
    conduct(world, world.manager, kind="good", start=dt.date(2026, 9, 1))
    conduct(world, world.manager, public=False)
    closing()
    url = reverse("registry:lookup")
    with at(dt.date(2027, 4, 2)):
        response = as_user(None).post(
            url,
            {
                "number": f" {world.manager.registration_number} ",
                "name": world.manager.real_name,
            },
        )
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="lookup-result"' in html
    assert world.manager.real_name in html and world.firm.name in html
    assert "优秀项目经理" in html and "物业服务投诉查实" not in html
    assert world.manager.id_number not in html and world.manager.phone not in html
    assert 'data-testid="registry-status"' in html
    assert reverse("registry:conduct_evidence", args=[1]).rsplit("/", 3)[0] not in html
    unknown = as_user(None).post(url, {"number": "NOPE0000", "name": world.manager.real_name})
    assert unknown.status_code == 404 and 'data-testid="lookup-unknown"' in unknown.content.decode()
    assert as_user(None).get(url).status_code == 200  # the empty form


def test_the_firm_lists_its_managers_with_their_latest_status_and_filters_the_abnormal(
    world, closing, as_user, django_assert_max_num_queries
):
    f.study_hours(world.manager, YEAR, 30)
    approve(world, submit(world, world.manager))
    others = f.bulk_managers(30, "fs", firm=world.firm)
    closing()
    client = as_user(world.reviewer)
    url = reverse("overview:firm_managers")
    with django_assert_max_num_queries(15):
        html = client.get(url).content.decode()
    assert html.count('text-bg-danger">Abnormal') + html.count('text-bg-danger">异常') == 30
    abnormal = client.get(url, {"status": "abnormal"}).content.decode()
    assert others[0].real_name in abnormal and world.manager.real_name not in abnormal
    normal = client.get(url, {"status": "normal"}).content.decode()
    assert world.manager.real_name in normal and others[0].real_name not in normal
    notice = Notice.objects.get(recipient=world.reviewer, kind=Notice.Kind.FIRM_ABNORMAL)
    assert notice.params["count"] == 30 and notice.link.endswith("?status=abnormal")


def test_changing_a_conduct_record_in_the_admin_decides_the_year_again(
    world, closing, as_user, mfa
):
    f.study_hours(world.manager, YEAR, 30)
    approve(world, submit(world, world.manager))
    record = conduct(world, world.manager, start=dt.date(2024, 1, 1), until=dt.date(2024, 6, 30))
    closing()
    assert status_of(world.manager).status == S.NORMAL
    client = as_user(mfa(world.bureau))
    url = reverse("admin:registry_conductrecord_change", args=[record.pk])
    response = client.post(
        url,
        {
            "manager": world.other_manager.pk,  # read-only once recorded: ignored
            "kind": "bad",
            "occurred_on": "2024-01-01",
            "summary": record.summary,
            "details": "",
            "effective_from": "2024-01-01",
            "effective_until": "2026-12-31",  # extended into the year
            "public": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    record.refresh_from_db()
    assert record.manager == world.manager and record.effective_until == dt.date(2026, 12, 31)
    assert status_of(world.manager).reasons == ["bad_conduct"]
    assert record.history.count() == 2


def test_the_closing_queries_do_not_grow_with_the_number_of_managers(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    HoursRule.objects.create(jurisdiction=world.province, year=YEAR, annual_minimum=24)
    counts = []
    for n in (5, 60):
        f.bulk_managers(n, f"c{n}", firm=world.firm)
        with at(CLOSED), CaptureQueriesContext(connection) as ctx:
            result = status.windows_close(day=CLOSED, queue=False)
        counts.append(len(ctx.captured_queries))
        assert result.decided["abnormal"] >= n
        Notice.objects.all().delete()
        CreditEntry.objects.all().delete()
        RegistryStatus.objects.all().delete()
    assert counts[0] == counts[1]


def test_the_bureau_overview_counts_the_latest_years_statuses_in_its_area(world, closing, as_user):
    f.study_hours(world.manager, YEAR, 30)
    approve(world, submit(world, world.manager))
    f.bulk_managers(3, "bo", firm=world.firm)
    closing()
    html = as_user(world.bureau).get(reverse("overview:bureau_dashboard")).content.decode()
    assert 'data-testid="status-counts"' in html
    assert 'text-success">1<' in html and 'status=abnormal">3<' in html  # 吉首市 only
    html = as_user(world.prefecture_bureau).get(reverse("overview:bureau_dashboard"))
    assert 'status=abnormal">4<' in html.content.decode()  # with 凤凰县's manager
