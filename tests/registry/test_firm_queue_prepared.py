"""The firm queue's first page runs as prepared queries (registry.selectors.firm_queue_first_page):
it must show exactly what the access policy's queryset shows, for every status, and the page
must read the same as the second page's path does."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Employment, FirmMembership
from registry import selectors, services
from registry.filters import FirmQueueFilter
from registry.models import AnnualFiling
from tests import factories as f

from .conftest import YEAR

pytestmark = pytest.mark.django_db

Status = AnnualFiling.Status


def submitted(manager, *, firm_approves=False, reviewer=None):
    filing = services.filing_start(actor=manager.user, year=YEAR)
    f.add_proofs(filing)
    services.filing_submit(actor=manager.user, filing=filing)
    if firm_approves:
        services.filing_firm_approve(actor=reviewer, filing=filing)
    return filing


def expected(user, status):
    qs = FirmQueueFilter({"status": status}, queryset=selectors.firm_queue_all(user=user)).qs
    return list(qs.values_list(*selectors.QUEUE_ROW, named=True)[:50]), qs.count()


@pytest.fixture
def busy_firm(filing_world):
    w = filing_world
    for n in range(3):
        manager = f.ManagerProfileFactory(real_name=f"待审{n}")
        f.employ(manager, w.firm)
        submitted(manager)
    forwarded = f.ManagerProfileFactory(real_name="已转")
    f.employ(forwarded, w.firm)
    submitted(forwarded, firm_approves=True, reviewer=w.reviewer)
    left = f.ManagerProfileFactory(real_name="已离职")
    f.employ(left, w.firm)
    submitted(left)
    Employment.objects.filter(manager=left).update(status=Employment.Status.ENDED)
    elsewhere = f.ManagerProfileFactory(real_name="别家")
    f.employ(elsewhere, w.other_firm)
    submitted(elsewhere)
    # A manager who is (wrongly) also a reviewer of the firm: never his own filing.
    own = f.ManagerProfileFactory(real_name="自审人")
    f.employ(own, w.firm)
    submitted(own)
    FirmMembership.objects.create(user=own.user, firm=w.firm, role="reviewer")
    own.user._portal_roles = None
    return w, own.user


@pytest.mark.parametrize("status", [*Status.values, "all"])
def test_the_prepared_first_page_is_the_policys_queryset(busy_firm, status):
    w, own_reviewer = busy_firm
    for user in (w.reviewer, w.other_reviewer, own_reviewer):
        rows, count = selectors.firm_queue_first_page(user=user, status=status)
        assert (rows, count) == expected(user, status), (user, status)


def test_the_counts_are_what_the_firm_may_see(busy_firm):
    w, own_reviewer = busy_firm
    rows, count = selectors.firm_queue_first_page(user=w.reviewer, status=Status.AWAITING_FIRM)
    names = sorted(row.manager__real_name for row in rows)
    assert names == ["待审0", "待审1", "待审2", "自审人"] and count == 4
    rows, count = selectors.firm_queue_first_page(user=own_reviewer, status="all")
    assert "自审人" not in {row.manager__real_name for row in rows} and count == 4
    rows, count = selectors.firm_queue_first_page(
        user=w.other_reviewer, status=Status.AWAITING_FIRM
    )
    assert [row.manager__real_name for row in rows] == ["别家"] and count == 1
    # an empty queue counts 0 (no group at all)
    assert selectors.firm_queue_first_page(user=w.reviewer, status=Status.APPROVED) == ([], 0)


def test_only_a_firm_reviewers_queue_is_prepared(busy_firm):
    w, _ = busy_firm
    with pytest.raises(ValueError):
        selectors.firm_queue_first_page(user=w.manager.user, status="all")
    with pytest.raises(ValueError):
        selectors.firm_queue_first_page(user=w.reviewer, status="nonsense")


def test_the_first_page_reads_like_any_other(busy_firm, as_user):
    """The page built from the prepared queries shows the policy's rows, and a search (the
    general path) writes the same row for the same filing."""
    w, _ = busy_firm
    client = as_user(w.reviewer)
    url = reverse("registry:firm_queue") + "?status=all"
    fast = client.get(url)
    assert fast.status_code == 200
    page = fast.context["page"]
    rows, count = expected(w.reviewer, "all")
    assert list(page) == rows and page.paginator.count == count
    html = fast.content.decode()
    for row in rows:
        assert reverse("registry:firm_filing_detail", args=[row.pk]) in html
        assert row.manager__real_name in html
    # The general path (a search) gives the same row markup for the same filing.
    searched = client.get(url + "&q=待审0").content.decode()
    first = next(r for r in rows if r.manager__real_name == "待审0")
    marker = reverse("registry:firm_filing_detail", args=[first.pk])
    assert marker in searched and "待审1" not in searched
