"""Non-public records stay non-public: the public pages and firms see a status with the reasons
that come from public facts only; "abnormal" only because of a record that is not public reads
"abnormal, ask the bureau". The manager himself and bureau staff see every reason."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from registry import jobs, selectors, services
from registry.models import RegistryStatus, StatusReason
from tests import factories as f
from training.models import HoursRule

YEAR = 2026
CLOSED = dt.date(2027, 4, 1)  # the day after the default window's last day
ASK_BUREAU = "异常（请向主管部门咨询）"


def _zh(label) -> str:
    with translation.override("zh-hans"):
        return str(label)


BAD_CONDUCT = _zh(StatusReason.BAD_CONDUCT.label)
HOURS_SHORT = _zh(StatusReason.HOURS_SHORT.label)


def at(day: dt.date):
    return time_machine.travel(
        dt.datetime.combine(day, dt.time(9), tzinfo=ZoneInfo("Asia/Shanghai")), tick=False
    )


@pytest.fixture
def decided(world, django_capture_on_commit_callbacks):
    """`decided(hours=30, public=False)`: the manager filed (approved) with `hours` study hours
    (the rule asks 24), a bad conduct record (`public` or not) was entered, the window closed.
    Returns the manager's certificate code."""

    def run(*, hours=30, public=False):
        HoursRule.objects.create(jurisdiction=world.province, year=YEAR, annual_minimum=24)
        f.study_hours(world.manager, YEAR, hours)
        with at(dt.date(2027, 2, 1)):
            filing = services.filing_start(actor=world.manager.user, year=YEAR)
            f.add_proofs(filing)
            filing = services.filing_submit(actor=world.manager.user, filing=filing)
            filing = services.filing_firm_approve(actor=world.reviewer, filing=filing)
            filing = services.filing_bureau_approve(actor=world.bureau, filing=filing)
        record = f.conduct_record(world.manager, public=public, save=False)
        services.conduct_record_save(actor=world.bureau, record=record)
        with at(CLOSED), django_capture_on_commit_callbacks(execute=True):
            jobs.windows_close(day=CLOSED)
        status = RegistryStatus.objects.get(manager=world.manager, year=YEAR)
        assert status.status == RegistryStatus.Status.ABNORMAL
        assert StatusReason.BAD_CONDUCT in status.reasons
        filing.refresh_from_db()
        return filing.certificate_code

    return run


def _pages(world, as_user, code) -> dict[str, str]:
    """What the public and the manager's firm read about him."""
    public = as_user(None)
    with at(dt.date(2027, 4, 2)):
        return {
            "verify": public.get(reverse("registry:verify", args=[code])).content.decode(),
            "lookup": public.post(
                reverse("registry:lookup"),
                {"number": world.manager.registration_number, "name": world.manager.real_name},
            ).content.decode(),
            "firm list": as_user(world.reviewer)
            .get(reverse("overview:firm_managers"))
            .content.decode(),
            "firm detail": as_user(world.reviewer)
            .get(reverse("overview:manager_detail", args=[world.manager.pk]))
            .content.decode(),
        }


def test_a_record_that_is_not_public_reads_ask_the_bureau_to_the_public_and_firms(
    world, as_user, decided
):
    code = decided(public=False)
    for page, html in _pages(world, as_user, code).items():
        assert BAD_CONDUCT not in html, page
        assert ASK_BUREAU in html, page
        assert "物业服务投诉查实" not in html, page  # nor the record itself
    # Nor the change history, whose causes name conduct records.
    detail = _pages(world, as_user, code)["firm detail"]
    assert 'data-testid="credit-entries"' not in detail


def test_a_public_record_shows_its_reason(world, as_user, decided):
    code = decided(public=True)
    for page, html in _pages(world, as_user, code).items():
        assert ASK_BUREAU not in html, page
        if page != "firm list":  # the list shows statuses, never reasons
            assert BAD_CONDUCT in html, page


def test_public_reasons_stay_and_only_the_hidden_one_is_left_out(world, as_user, decided):
    code = decided(hours=10, public=False)
    pages = _pages(world, as_user, code)
    for page in ("verify", "lookup", "firm detail"):
        assert HOURS_SHORT in pages[page], page
        assert BAD_CONDUCT not in pages[page], page
        assert ASK_BUREAU not in pages[page], page  # abnormal for a public reason
    assert ASK_BUREAU not in pages["firm list"]


def test_the_manager_and_the_bureau_still_see_every_reason(world, as_user, decided):
    decided(public=False)
    html = as_user(world.manager.user).get(reverse("registry:credit_record")).content.decode()
    assert BAD_CONDUCT in html and ASK_BUREAU not in html
    dashboard = as_user(world.manager.user).get(reverse("overview:manager_dashboard"))
    assert BAD_CONDUCT in dashboard.content.decode()
    # Bureau staff (in the admin and on the manager's page): the same selector, every reason.
    assert selectors.sees_all_reasons(user=world.bureau)
    assert not selectors.sees_all_reasons(user=world.reviewer)
    record = selectors.credit_record_for(
        manager=world.manager,
        conduct=selectors.conduct_record_list_for(user=world.bureau),
        full_reasons=selectors.sees_all_reasons(user=world.bureau),
    )
    status = record.latest
    assert status.ask_bureau is False
    assert status.shown_reasons == [str(StatusReason.BAD_CONDUCT.label)]
    assert record.entries  # and the history


def test_what_firms_see_costs_no_query_per_manager(
    world, as_user, decided, django_assert_max_num_queries
):
    others = f.bulk_managers(30, "dq", firm=world.firm)  # decided too: abnormal, not filed
    decided(public=False)
    for manager in others[:5]:
        services.conduct_record_save(
            actor=world.bureau, record=f.conduct_record(manager, public=False, save=False)
        )
    assert RegistryStatus.objects.filter(manager__in=others).count() == 30
    client = as_user(world.reviewer)
    with django_assert_max_num_queries(15):
        html = client.get(reverse("overview:firm_managers")).content.decode()
    assert ASK_BUREAU in html
