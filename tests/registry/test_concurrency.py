"""Two people acting on one filing at the same moment, on real PostgreSQL connections (one per
thread): exactly one succeeds, the other is told what happened, one event is recorded."""

import threading

import pytest
from django.db import connection
from django.utils import translation

from core.errors import DomainError
from registry import services
from registry.models import AnnualFiling, ReviewEvent
from tests import factories as f

from .conftest import YEAR

pytestmark = pytest.mark.django_db(transaction=True)


def race(*calls):
    """Run the calls at once, each in its own thread and database connection."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait()
            with translation.override("en"):  # the active language is per thread
                call()
            results[i] = "ok"
        except Exception as exc:  # noqa: BLE001 (collected for the assertions)
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


@pytest.fixture
def awaiting_firm(world):
    f.open_window(world.province, YEAR)
    filing = services.filing_start(actor=world.manager.user, year=YEAR)
    f.add_proofs(filing)
    return services.filing_submit(actor=world.manager.user, filing=filing)


def _refused(results):
    return [r for r in results if r != "ok"]


def test_two_reviewers_approving_at_once_one_wins(world, awaiting_firm):
    second = f.FirmMembershipFactory(firm=world.firm, role="reviewer").user
    results = race(
        lambda: services.filing_firm_approve(actor=world.reviewer, filing=awaiting_firm),
        lambda: services.filing_firm_approve(actor=second, filing=awaiting_firm),
    )
    assert results.count("ok") == 1
    (refusal,) = _refused(results)
    assert isinstance(refusal, DomainError)
    assert "Approved by the firm and forwarded" in refusal.messages[0]
    assert ReviewEvent.objects.filter(filing=awaiting_firm, action="firm_approve").count() == 1
    awaiting_firm.refresh_from_db()
    assert awaiting_firm.status == AnnualFiling.Status.AWAITING_BUREAU


def test_approve_and_return_at_once_only_one_happens(world, awaiting_firm):
    second = f.FirmMembershipFactory(firm=world.firm, role="reviewer").user
    results = race(
        lambda: services.filing_firm_approve(actor=world.reviewer, filing=awaiting_firm),
        lambda: services.filing_firm_return(actor=second, filing=awaiting_firm, reason="缺页"),
    )
    assert results.count("ok") == 1
    assert isinstance(_refused(results)[0], DomainError)
    decided = ReviewEvent.objects.filter(
        filing=awaiting_firm, action__in=["firm_approve", "firm_return"]
    )
    assert decided.count() == 1
    awaiting_firm.refresh_from_db()
    assert awaiting_firm.status == decided.get().to_status


def test_a_double_click_on_bureau_approve_records_one_event(world, awaiting_firm):
    services.filing_firm_approve(actor=world.reviewer, filing=awaiting_firm)
    results = race(
        *[lambda: services.filing_bureau_approve(actor=world.bureau, filing=awaiting_firm)] * 3
    )
    assert results.count("ok") == 1
    assert all(isinstance(r, DomainError) for r in _refused(results))
    assert ReviewEvent.objects.filter(filing=awaiting_firm, action="bureau_approve").count() == 1
    awaiting_firm.refresh_from_db()
    assert awaiting_firm.status == AnnualFiling.Status.APPROVED
    assert awaiting_firm.certificate_code


def test_withdraw_racing_the_firms_approval_only_one_happens(world, awaiting_firm):
    results = race(
        lambda: services.filing_withdraw(actor=world.manager.user, filing=awaiting_firm),
        lambda: services.filing_firm_approve(actor=world.reviewer, filing=awaiting_firm),
    )
    assert results.count("ok") == 1
    awaiting_firm.refresh_from_db()
    acted = ReviewEvent.objects.filter(
        filing=awaiting_firm, action__in=["withdraw", "firm_approve"]
    )
    assert acted.count() == 1
    assert awaiting_firm.status == acted.get().to_status


def test_two_starts_at_once_make_one_filing(world):
    f.open_window(world.province, YEAR)
    results = race(*[lambda: services.filing_start(actor=world.manager.user, year=YEAR)] * 2)
    assert results == ["ok", "ok"]
    assert AnnualFiling.objects.filter(manager=world.manager, year=YEAR).count() == 1
