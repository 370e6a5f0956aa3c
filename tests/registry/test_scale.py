"""The filing pages stay fast as data grows: the number of queries does not depend on the number
of filings (the bureau's list, the firm's queue) or on the length of a filing's history.

Each test measures a page on a little data first, then adds a lot and requires no more queries."""

import datetime as dt
import itertools

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Employment
from registry import services
from registry.admin import AnnualFilingAdmin
from registry.models import AnnualFiling
from tests import factories as f

from .conftest import YEAR

Status = AnnualFiling.Status

# Every status, drafts and returns included (the bureau's list shows them all).
STATUSES = [
    Status.AWAITING_BUREAU,
    Status.APPROVED,
    Status.AWAITING_FIRM,
    Status.RETURNED,
    Status.DRAFT,
]


def queries_for(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


_codes = itertools.count(1)


def bulk_filings(profiles, *, firm, year=YEAR):
    """One filing per manager, the statuses taking turns, made in bulk."""
    now = timezone.now()
    filings = []
    for i, manager in enumerate(profiles):
        status = STATUSES[i % len(STATUSES)]
        submitted = status != Status.DRAFT
        forwarded = status in (Status.AWAITING_BUREAU, Status.APPROVED)
        approved = status == Status.APPROVED
        filings.append(
            AnnualFiling(
                manager=manager,
                year=year,
                status=status,
                firm=firm if submitted else None,
                jurisdiction=firm.jurisdiction,
                round=1 if submitted else 0,
                submitted_at=now - dt.timedelta(minutes=i) if submitted else None,
                firm_approved_at=now - dt.timedelta(seconds=i) if forwarded else None,
                approved_at=now if approved else None,
                certificate_code=f"T{next(_codes):011d}" if approved else None,
                return_reason="照片不清晰" if status == Status.RETURNED else "",
            )
        )
    return AnnualFiling.objects.bulk_create(filings, batch_size=5000)


def analyze():
    """Fresh planner statistics after a bulk load. The rows are not committed (the test runs in a
    transaction), so an autovacuum ANALYZE in the meantime records the tables as empty, and the
    planner then joins 50,000 rows by nested loops; our own ANALYZE counts our own rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE registry_annualfiling, accounts_managerprofile, accounts_employment, "
            "accounts_user, accounts_firm, accounts_jurisdiction"
        )


# --- the bureau's admin list ---------------------------------------------------------------------


def test_bureau_admin_filing_list_with_50000_filings_is_constant_in_queries(
    world, as_user, mfa, django_assert_max_num_queries
):
    client = as_user(mfa(world.bureau))
    base = reverse("admin:registry_annualfiling_changelist")
    urls = {
        "list": base,
        "status": base + f"?status__exact={Status.AWAITING_BUREAU}",
        "search": base + "?q=SM00000007",  # the registration number of SM7
        "page 2": base + "?p=2",
        "filters": base + f"?status__exact={Status.APPROVED}&year={YEAR}&firm={world.firm.pk}",
    }
    # A little data: enough for a second page (50 a page).
    bulk_filings(f.bulk_managers(150, "SM", firm=world.firm), firm=world.firm)
    few = {name: queries_for(client, url) for name, url in urls.items()}

    # A lot: 50,000 filings in the county, and some of another county that must not show.
    bulk_filings(
        f.bulk_managers(50_000 - 150, "s", firm=world.firm, batch_size=5000), firm=world.firm
    )
    bulk_filings(f.bulk_managers(30, "OT", firm=world.other_firm), firm=world.other_firm)
    assert AnnualFiling.objects.filter(jurisdiction=world.county).count() == 50_000
    analyze()

    for name, url in urls.items():
        with django_assert_max_num_queries(few[name], info=name):
            response = client.get(url)
        assert response.status_code == 200, name
        results = list(response.context["cl"].result_list)
        assert results, name
        assert all(filing.jurisdiction_id == world.county.pk for filing in results), name
        if name == "status":
            assert {filing.status for filing in results} == {Status.AWAITING_BUREAU}
        if name == "search":
            assert {filing.manager.real_name for filing in results} == {"SM7"}
        if name in ("list", "page 2"):
            assert len(results) == AnnualFilingAdmin.list_per_page == 50
    # The other county's filings are not found, even by search.
    with django_assert_max_num_queries(few["search"]):
        response = client.get(base + "?q=OT1")
    assert list(response.context["cl"].result_list) == []


# --- the firm's queue ----------------------------------------------------------------------------


def test_firm_queue_with_thousands_of_filings_is_constant_in_queries(
    world, as_user, django_assert_max_num_queries
):
    client = as_user(world.reviewer)
    base = reverse("registry:firm_queue")
    urls = {
        "all": base + "?status=all",
        "page 2": base + "?status=all&page=2",
        "awaiting": base,
        "search": base + "?status=all&q=SM00000007",
    }
    bulk_filings(f.bulk_managers(60, "SM", firm=world.firm), firm=world.firm)
    few = {name: queries_for(client, url) for name, url in urls.items()}

    bulk_filings(f.bulk_managers(3000, "BG", firm=world.firm, batch_size=1000), firm=world.firm)
    bulk_filings(f.bulk_managers(50, "OT", firm=world.other_firm), firm=world.other_firm)
    # Managers who left the firm: their filings leave the firm's queue.
    left = f.bulk_managers(40, "LF", firm=world.firm)
    bulk_filings(left, firm=world.firm)
    Employment.objects.filter(manager__in=left).update(status=Employment.Status.ENDED)
    analyze()

    expected = AnnualFiling.objects.filter(firm=world.firm).exclude(manager__in=left).count()
    for name, url in urls.items():
        with django_assert_max_num_queries(few[name], info=name):
            response = client.get(url)
        assert response.status_code == 200, name
        page = response.context["page"]
        shown = AnnualFiling.objects.filter(pk__in=[row.pk for row in page])
        assert set(shown.values_list("firm_id", flat=True)) <= {world.firm.pk}, name
        if name in ("all", "page 2"):
            assert page.paginator.count == expected
            assert len(page) == 50
        if name == "search":
            assert [row.manager__real_name for row in page] == ["SM7"]


# --- one filing with a long history ---------------------------------------------------------------


def _rounds(filing, world, count):
    """`count` times: withdraw, replace every proof, submit again."""
    manager = world.manager.user
    for _ in range(count):
        services.filing_withdraw(actor=manager, filing=filing)
        for kind in ("id_card", "diploma", "title", "ce", "contract"):
            services.filing_proof_upload(actor=manager, filing=filing, kind=kind, file=f.upload())
        filing = services.filing_submit(actor=manager, filing=filing)
    return filing


def _assert_constant_as_history_grows(pages, filing, world, as_user, assert_max_queries):
    """Measure each (user, url) page after one round, then after twelve more."""
    filing = _rounds(filing, world, 1)
    few = {name: queries_for(as_user(user), url) for name, (user, url) in pages.items()}

    filing = _rounds(filing, world, 12)
    assert filing.events.count() == 2 + 2 * 13
    assert filing.proofs.count() == 5 * 14
    for name, (user, url) in pages.items():
        client = as_user(user)
        with assert_max_queries(few[name], info=name):
            response = client.get(url)
        assert response.status_code == 200, name


def test_filing_pages_are_constant_in_queries_with_a_long_history(
    submitted, filing_world, as_user, django_assert_max_num_queries
):
    w = filing_world
    pages = {
        "manager": (w.manager.user, reverse("registry:my_filing") + f"?year={YEAR}"),
        "firm": (w.reviewer, reverse("registry:firm_filing_detail", args=[submitted.pk])),
        "firm queue": (w.reviewer, reverse("registry:firm_queue")),
    }
    _assert_constant_as_history_grows(pages, submitted, w, as_user, django_assert_max_num_queries)


def test_bureau_filing_page_is_constant_in_queries_with_a_long_history(
    submitted, filing_world, as_user, mfa, django_assert_max_num_queries
):
    """The admin's change page lists the audit trail (every change of the filing, its proofs and
    the profile): it must not cost queries per entry."""
    w = filing_world
    pages = {
        "bureau": (
            mfa(w.bureau),
            reverse("admin:registry_annualfiling_change", args=[submitted.pk]),
        ),
    }
    _assert_constant_as_history_grows(pages, submitted, w, as_user, django_assert_max_num_queries)
