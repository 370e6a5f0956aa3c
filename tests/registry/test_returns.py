"""Returns that say exactly what to fix (a note on each proof to correct), a grace period for a
return near or after the deadline, and no penalty for the reviewers' delay: a filing submitted in
time and under review when the window closes leaves its manager's year undecided until then."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.errors import DomainError
from notifications.models import Notice
from registry import services, status
from registry.models import (
    AnnualFiling,
    CreditEntry,
    FilingExtension,
    FilingWindow,
    ProofMark,
    RegistryStatus,
)
from tests import factories as f

from .conftest import YEAR

SH = ZoneInfo("Asia/Shanghai")
S = RegistryStatus.Status


def my_filing(client, year=YEAR):
    return client.get(reverse("registry:my_filing") + f"?year={year}").content.decode()


# --- correction marks -------------------------------------------------------------------------


def test_a_bureau_return_marks_proofs_and_the_manager_sees_only_those(
    forwarded, filing_world, as_user
):
    client = as_user(filing_world.bureau)
    response = client.post(
        reverse("admin:registry_annualfiling_return", args=[forwarded.pk]),
        {
            "reason": "请按标注更正",
            "mark_id_card": "身份证反面缺失",
            "mark_contract": "合同缺签字页",
            "mark_diploma": "  ",
        },
    )
    assert response.status_code == 302
    marks = ProofMark.objects.filter(filing=forwarded)
    assert dict(marks.values_list("kind", "note")) == {
        "id_card": "身份证反面缺失",
        "contract": "合同缺签字页",
    }
    assert all(m.proof_id and m.event.action == "bureau_return" for m in marks)

    html = my_filing(as_user(filing_world.manager.user))
    assert 'data-testid="mark-id_card"' in html and "身份证反面缺失" in html
    assert 'data-testid="mark-contract"' in html
    for kind in ("diploma", "title", "ce"):
        assert f'data-testid="mark-{kind}"' not in html
    # The bureau's page keeps them.
    page = client.get(reverse("admin:registry_annualfiling_change", args=[forwarded.pk]))
    assert "身份证反面缺失" in page.content.decode()


def test_marks_are_closed_and_recorded_at_the_resubmission(forwarded, filing_world, as_user):
    filing = services.filing_bureau_return(
        actor=filing_world.bureau,
        filing=forwarded,
        reason="请按标注更正",
        marks={"id_card": "看不清", "contract": "缺页"},
    )
    manager = filing_world.manager.user
    services.filing_proof_upload(
        actor=manager, filing=filing, kind="id_card", file=f.upload("新身份证.png")
    )
    services.filing_submit(actor=manager, filing=filing)
    marks = {m.kind: m for m in ProofMark.objects.filter(filing=filing)}
    assert all(m.resolved_at for m in marks.values())
    assert marks["id_card"].replaced and not marks["contract"].replaced
    # Under review again: nothing is marked on his page.
    assert 'data-testid="mark-' not in my_filing(as_user(manager))


def test_a_firm_return_can_mark_proofs_too(submitted, filing_world, as_user):
    response = as_user(filing_world.reviewer).post(
        reverse("registry:firm_filing_return", args=[submitted.pk]),
        {"reason": "材料有误", "mark_ce": "学时证明与记录不符"},
    )
    assert response.status_code == 302
    assert dict(ProofMark.objects.values_list("kind", "note")) == {"ce": "学时证明与记录不符"}
    html = my_filing(as_user(filing_world.manager.user))
    assert 'data-testid="mark-ce"' in html and 'data-testid="mark-id_card"' not in html


def test_another_manager_sees_no_marks_of_this_filing(forwarded, filing_world, as_user):
    services.filing_bureau_return(
        actor=filing_world.bureau, filing=forwarded, reason="更正", marks={"title": "过期"}
    )
    assert "过期" not in my_filing(as_user(filing_world.other_manager.user))


@pytest.mark.parametrize("marks", [{"title": ""}, {"nonsense": "x"}])
def test_a_mark_needs_a_known_proof_and_a_note(forwarded, filing_world, marks):
    with pytest.raises(DomainError):
        services.filing_bureau_return(
            actor=filing_world.bureau, filing=forwarded, reason="更正", marks=marks
        )
    forwarded.refresh_from_db()
    assert forwarded.status == AnnualFiling.Status.AWAITING_BUREAU
    assert not ProofMark.objects.exists()


# --- a return near the deadline extends it ------------------------------------------------------


def days_from_today(n: int) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=n)
    return dt.datetime.combine(day, dt.time(10), tzinfo=SH)


def window_close():
    return FilingWindow.objects.get(year=YEAR).closes_on  # f.open_window: today + 30


def test_a_return_in_the_last_seven_days_extends_the_deadline(forwarded, filing_world):
    close = window_close()
    with time_machine.travel(days_from_today(27), tick=False):  # three days before the close
        services.filing_bureau_return(actor=filing_world.bureau, filing=forwarded, reason="补正")
    extension = FilingExtension.objects.get(manager=filing_world.manager, year=YEAR)
    assert extension.until == close + dt.timedelta(days=7)
    assert extension.granted_by == filing_world.bureau and extension.reason
    notice = Notice.objects.get(kind=Notice.Kind.FILING_EXTENDED)
    assert notice.recipient == filing_world.manager.user
    assert notice.params["until"] == extension.until.isoformat()


def test_a_return_earlier_in_the_window_does_not(forwarded, filing_world):
    with time_machine.travel(days_from_today(22), tick=False):  # eight days before the close
        services.filing_bureau_return(actor=filing_world.bureau, filing=forwarded, reason="补正")
    assert not FilingExtension.objects.exists()
    assert not Notice.objects.filter(kind=Notice.Kind.FILING_EXTENDED).exists()


def test_the_grace_days_are_set_per_jurisdiction_and_inherited(submitted, filing_world):
    FilingWindow.objects.filter(jurisdiction=filing_world.province).update(return_grace_days=12)
    close = window_close()
    with time_machine.travel(days_from_today(30), tick=False):  # the last day
        services.filing_firm_return(actor=filing_world.reviewer, filing=submitted, reason="补正")
    assert FilingExtension.objects.get().until == close + dt.timedelta(days=12)


def test_a_later_extension_is_not_shortened(forwarded, filing_world):
    close = window_close()
    FilingExtension.objects.create(
        manager=filing_world.manager,
        year=YEAR,
        until=close + dt.timedelta(days=5),
        reason="住院",
        granted_by=filing_world.bureau,
    )
    # Three days before his own (extended) deadline: 7 more from it.
    with time_machine.travel(days_from_today(32), tick=False):
        services.filing_bureau_return(actor=filing_world.bureau, filing=forwarded, reason="补正")
    assert FilingExtension.objects.get().until == close + dt.timedelta(days=12)


def test_the_manager_page_shows_the_new_deadline_in_chinese(forwarded, filing_world, as_user):
    with time_machine.travel(days_from_today(27), tick=False):
        services.filing_bureau_return(actor=filing_world.bureau, filing=forwarded, reason="补正")
        client = as_user(filing_world.manager.user)
        html = client.get(
            reverse("registry:my_filing") + f"?year={YEAR}", HTTP_ACCEPT_LANGUAGE="zh-hans"
        ).content.decode()
    assert "截止日期已延至" in html
    assert "天补正" in FilingExtension.objects.get().reason  # stored in the portal's language


# --- under review when the window closes ---------------------------------------------------------

YEAR_C = 2026  # the default window: 2027-01-01 to 2027-03-31


def at(day: dt.date):
    return time_machine.travel(dt.datetime.combine(day, dt.time(9), tzinfo=SH), tick=False)


@pytest.fixture
def close_on(world, django_capture_on_commit_callbacks):
    def run(day):
        with at(day), django_capture_on_commit_callbacks(execute=True):
            return status.windows_close(day=day, year=YEAR_C)

    return run


def under_review(world, manager=None, reviewer=None):
    """Submitted on 1 February, forwarded by the firm on 5 March: awaiting the bureau."""
    manager = manager or world.manager
    with at(dt.date(2027, 2, 1)):
        filing = services.filing_start(actor=manager.user, year=YEAR_C)
        f.add_proofs(filing)
        filing = services.filing_submit(actor=manager.user, filing=filing)
    with at(dt.date(2027, 3, 5)):
        return services.filing_firm_approve(actor=reviewer or world.reviewer, filing=filing)


def statuses(manager):
    return list(RegistryStatus.objects.filter(manager=manager, year=YEAR_C))


def test_under_review_at_the_close_is_not_abnormal_and_approval_makes_it_normal(world, close_on):
    filing = under_review(world)
    result = close_on(dt.date(2027, 4, 1))
    assert statuses(world.manager) == []
    assert not CreditEntry.objects.filter(manager=world.manager).exists()
    assert not Notice.objects.filter(
        recipient=world.manager.user, kind=Notice.Kind.STATUS_ABNORMAL
    ).exists()
    # The other manager (nothing filed) is judged as always.
    assert result.decided == {"abnormal": 1}

    with at(dt.date(2027, 4, 10)):
        services.filing_bureau_approve(actor=world.bureau, filing=filing)
    (decided,) = statuses(world.manager)
    assert decided.status == S.NORMAL and decided.closed_on == dt.date(2027, 3, 31)
    entries = list(CreditEntry.objects.filter(manager=world.manager))
    assert [(e.status, e.previous_status, e.cause, e.actor) for e in entries] == [
        (S.NORMAL, "", CreditEntry.Cause.LATE_APPROVAL, world.bureau)
    ]
    # The next closing leaves him alone.
    close_on(dt.date(2027, 4, 11))
    assert (
        len(statuses(world.manager)) == 1
        and CreditEntry.objects.filter(manager=world.manager).count() == 1
    )


def test_a_return_after_the_close_gives_the_grace_period_then_the_closing_judges(world, close_on):
    filing = under_review(world)
    close_on(dt.date(2027, 4, 1))
    with at(dt.date(2027, 4, 10)):
        services.filing_bureau_return(actor=world.bureau, filing=filing, reason="合同缺页")
    extension = FilingExtension.objects.get(manager=world.manager, year=YEAR_C)
    assert extension.until == dt.date(2027, 4, 17)  # today + 7: the deadline had passed
    close_on(dt.date(2027, 4, 17))  # his last day: not yet
    assert statuses(world.manager) == []
    close_on(dt.date(2027, 4, 18))  # not resubmitted in time
    (decided,) = statuses(world.manager)
    assert decided.status == S.ABNORMAL and decided.reasons == ["not_approved"]


def test_resubmitted_within_the_grace_period_waits_again_then_approval(world, close_on):
    filing = under_review(world)
    close_on(dt.date(2027, 4, 1))
    with at(dt.date(2027, 4, 10)):
        services.filing_bureau_return(actor=world.bureau, filing=filing, reason="合同缺页")
    with at(dt.date(2027, 4, 12)):
        filing = services.filing_submit(actor=world.manager.user, filing=filing)
    close_on(dt.date(2027, 4, 18))  # under review again at the end of the grace period
    assert statuses(world.manager) == []
    with at(dt.date(2027, 4, 20)):
        filing = services.filing_firm_approve(actor=world.reviewer, filing=filing)
        services.filing_bureau_approve(actor=world.bureau, filing=filing)
    (decided,) = statuses(world.manager)
    assert decided.status == S.NORMAL
    assert not CreditEntry.objects.filter(manager=world.manager, status=S.ABNORMAL).exists()


def test_an_approval_after_the_close_still_applies_the_other_reasons(world, close_on):
    f.conduct_record(world.manager, by=world.bureau)  # a bad record in force in 2026
    filing = under_review(world)
    close_on(dt.date(2027, 4, 1))
    with at(dt.date(2027, 4, 10)):
        services.filing_bureau_approve(actor=world.bureau, filing=filing)
    (decided,) = statuses(world.manager)
    assert decided.status == S.ABNORMAL and decided.reasons == ["bad_conduct"]
    assert Notice.objects.filter(
        recipient=world.manager.user, kind=Notice.Kind.STATUS_ABNORMAL
    ).exists()


def test_the_closing_stays_set_based_with_filings_under_review(world, close_on):
    def queries():
        RegistryStatus.objects.all().delete()
        CreditEntry.objects.all().delete()
        Notice.objects.all().delete()
        with CaptureQueriesContext(connection) as ctx:
            close_on(dt.date(2027, 4, 1))
        return len(ctx.captured_queries)

    under_review(world)
    few = queries()
    for i in range(15):
        manager = f.ManagerProfileFactory(real_name=f"审核中{i}")
        f.employ(manager, world.firm)
        under_review(world, manager)
    many = queries()
    assert many == few
    assert RegistryStatus.objects.filter(year=YEAR_C).count() == 1  # only the other manager
