"""Bulk approvals running at the same moment, on real PostgreSQL connections (one per thread):
each filing is approved once, and the job that did not approve it says why."""

import pytest

from registry import triage
from registry.models import AnnualFiling, BulkApprovalItem, ReviewEvent
from tests import factories as f

from .conftest import YEAR
from .test_concurrency import race
from .test_triage import forwarded_by, new_manager

pytestmark = pytest.mark.django_db(transaction=True)
Outcome = BulkApprovalItem.Outcome


@pytest.fixture(autouse=True)
def _no_task_at_commit(monkeypatch):
    """Here the commits are real: the jobs are run by the test's threads, not by the eager task
    published after the commit."""
    monkeypatch.setattr(triage, "publish", lambda name, args: True)


@pytest.fixture
def clean_filings(world):
    f.open_window(world.province, YEAR)
    managers = [world.manager] + [new_manager(world, f"并发{i}") for i in range(5)]
    return [forwarded_by(world, m) for m in managers]


def test_the_same_job_run_twice_at_once_approves_each_filing_once(world, clean_filings):
    job, _ = triage.bulk_approval_start(actor=world.bureau, filings=AnnualFiling.objects.all())
    results = race(
        lambda: triage.bulk_approval_run(job_id=job.pk),
        lambda: triage.bulk_approval_run(job_id=job.pk),
    )
    assert results == ["ok", "ok"]
    assert set(job.items.values_list("outcome", flat=True)) == {Outcome.APPROVED}
    assert ReviewEvent.objects.filter(action="bureau_approve").count() == len(clean_filings)


def test_two_officials_approving_the_same_list_at_once(world, clean_filings):
    colleague = f.BureauMembershipFactory(jurisdiction=world.county).user
    mine, _ = triage.bulk_approval_start(actor=world.bureau, filings=AnnualFiling.objects.all())
    theirs, _ = triage.bulk_approval_start(actor=colleague, filings=AnnualFiling.objects.all())
    assert (mine.total, theirs.total) == (6, 6), BulkApprovalItem.objects.values_list(
        "job_id", "filing_id", "outcome"
    )
    results = race(
        lambda: triage.bulk_approval_run(job_id=mine.pk),
        lambda: triage.bulk_approval_run(job_id=theirs.pk),
    )
    assert results == ["ok", "ok"]
    assert ReviewEvent.objects.filter(action="bureau_approve").count() == len(clean_filings)
    assert AnnualFiling.objects.exclude(status=AnnualFiling.Status.APPROVED).count() == 0
    for filing in clean_filings:
        outcomes = sorted(
            BulkApprovalItem.objects.filter(filing=filing).values_list("outcome", flat=True)
        )
        assert outcomes == sorted([Outcome.APPROVED, Outcome.CHANGED]), filing
