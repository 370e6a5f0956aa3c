"""Every page of the load test costs a small, fixed number of queries, whatever the size of the
firm or jurisdiction behind it (issue 15): measured on a small province built by `seed_scale`
itself (1,500 managers in 30 firms of very unequal size, ten study records each, filings of two
years in every state with proofs and events, statuses, conduct records, notices), so that a
query per row would show as hundreds of queries.

The manager's pages take at most six queries; the request's user, its roles and its unread
notices come in one of them."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import BureauMembership, Employment, FirmMembership, User
from core.prepared import original_sql
from notifications.models import Notice
from registry.models import AnnualFiling

MANAGER_PAGES = [
    "/me/",
    "/me/hours/",
    "/me/filing/",
    "/notices/",
    "/me/credit/",
]
ADMIN_FILINGS = "/admin/registry/annualfiling/"


@pytest.fixture
def province(settings, db):
    settings.DEBUG = True  # seed_scale refuses to run without it (a published password)
    call_command("seed_scale", managers=1500, firms=30, stdout=io.StringIO(), stderr=io.StringIO())


def queries_for(client, url: str, **extra) -> list[str]:
    """The SQL of a page in the steady state: after a first request, which prepares the hot
    reads on the database session (core.prepared); EXECUTEs read as the queries behind them."""
    client.get(url, **extra)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **extra)
    assert response.status_code == 200, (url, response.status_code)
    return [original_sql(query["sql"]) for query in ctx.captured_queries]


def busy_manager() -> User:
    """A manager with filings of both years (proofs and events), records and unread notices."""
    both = (
        AnnualFiling.objects.values("manager")
        .order_by("manager")
        .annotate(n=Count("pk"))
        .filter(n=2)
        .values_list("manager", flat=True)
    )
    return (
        User.objects.filter(manager_profile__in=list(both), notices__read_at__isnull=True)
        .order_by("pk")
        .first()
    )


def firm_reviewers() -> tuple[User, User]:
    """The reviewers of the largest and of the smallest firm."""
    sizes = sorted(
        (Employment.objects.filter(firm_id=m.firm_id, status="active").count(), m.user_id)
        for m in FirmMembership.objects.filter(role=FirmMembership.Role.ADMIN)
    )
    return User.objects.get(pk=sizes[-1][1]), User.objects.get(pk=sizes[0][1])


def test_manager_pages_take_at_most_six_queries(province, as_user, django_assert_max_num_queries):
    manager = busy_manager()
    assert manager is not None
    client = as_user(manager)
    for url in MANAGER_PAGES:
        client.get(url)  # the first prepares the hot reads on this database session
        with django_assert_max_num_queries(6, info=url):
            assert client.get(url).status_code == 200, url


def test_the_user_his_roles_and_his_unread_notices_come_in_one_query(province, as_user):
    manager = busy_manager()
    unread = Notice.objects.filter(recipient=manager, read_at__isnull=True).count()
    assert unread > 0
    sql = queries_for(as_user(manager), "/me/")
    user_queries = [q for q in sql if 'FROM "accounts_user"' in q]
    assert len(user_queries) == 1  # the session's user, with his memberships and counts
    assert '"notifications_notice"' in user_queries[0]
    assert not [q for q in sql if q.startswith('SELECT COUNT(*) AS "__count" FROM "notif')]
    html = as_user(manager).get("/me/").content.decode()
    assert f">{unread}</span>" in html  # the bell's number


def test_firm_pages_cost_the_same_for_the_largest_and_the_smallest_firm(
    province, as_user, django_assert_max_num_queries
):
    largest, smallest = firm_reviewers()
    assert Employment.objects.filter(firm=largest.firm_membership.firm).count() > 80
    pages = [
        reverse("registry:firm_queue"),
        reverse("registry:firm_queue") + "?status=all&page=2",
        reverse("overview:firm_managers"),
        reverse("training:firm_compliance"),
        reverse("training:firm_compliance") + "?order=-needed",
        reverse("training:firm_compliance_export"),
    ]
    small = as_user(smallest)
    large = as_user(largest)
    for url in pages:
        few = len(queries_for(small, url.replace("page=2", "page=1")))
        assert few <= 7, url
        with django_assert_max_num_queries(few, info=url):
            response = large.get(url)
        assert response.status_code == 200, url
    filing = AnnualFiling.objects.filter(
        firm=largest.firm_membership.firm, status=AnnualFiling.Status.AWAITING_FIRM
    ).first()
    with django_assert_max_num_queries(7):
        assert (
            large.get(reverse("registry:firm_filing_detail", args=[filing.pk])).status_code == 200
        )


def test_bureau_pages_cost_the_same_for_the_province_and_a_county(
    province, as_user, django_assert_max_num_queries
):
    provincial = BureauMembership.objects.get(user__email="bureau-430000@scale.example.cn").user
    # The smallest prefecture (张家界市, four counties): an official who may invite staff too.
    prefecture = BureauMembership.objects.get(user__email="bureau-430800@scale.example.cn").user
    name = AnnualFiling.objects.filter(status="awaiting_bureau").first().manager.real_name
    pages = [
        ADMIN_FILINGS,
        ADMIN_FILINGS + "?status__exact=awaiting_bureau&year=2025",
        ADMIN_FILINGS + f"?q={name}",
        ADMIN_FILINGS + "?p=2",
        reverse("overview:bureau_dashboard"),
    ]
    small, large = as_user(prefecture), as_user(provincial)
    for client in (small, large):  # the first request of a staff session renews its expiry
        client.get(reverse("overview:bureau_dashboard"))
    for url in pages:
        few = len(queries_for(small, url.replace("?p=2", "")))
        assert few <= 12, url
        with django_assert_max_num_queries(few, info=url):
            assert large.get(url).status_code == 200, url
    filing = AnnualFiling.objects.filter(status="awaiting_bureau").first()
    with django_assert_max_num_queries(14):
        assert large.get(f"{ADMIN_FILINGS}{filing.pk}/change/").status_code == 200


def test_the_bureau_list_of_a_province_is_counted_by_estimate(province, as_user):
    provincial = User.objects.get(email="bureau-430000@scale.example.cn")
    client = as_user(provincial)
    response = client.get(ADMIN_FILINGS)
    shown = response.context["cl"].result_count
    real = AnnualFiling.objects.exclude(status="draft").count()
    assert real > 1000
    sql = queries_for(client, ADMIN_FILINGS)
    assert any(q.startswith("EXPLAIN") for q in sql)
    assert not any(
        q.startswith('SELECT COUNT(*) AS "__count" FROM "registry_annualfiling"') for q in sql
    )
    assert shown > 1000 and abs(shown - real) < real * 0.25, (shown, real)
    # A list short enough is counted exactly: one status of the closed year.
    response = client.get(ADMIN_FILINGS + "?status__exact=awaiting_firm")
    exact = AnnualFiling.objects.filter(status="awaiting_firm").count()
    assert exact <= 1000
    assert response.context["cl"].result_count == exact


def test_the_bureau_search_finds_names_in_part_and_from_their_start(province, as_user):
    provincial = User.objects.get(email="bureau-430000@scale.example.cn")
    client = as_user(provincial)

    def found(term):
        response = client.get(ADMIN_FILINGS, {"q": term})
        return {f.pk for f in response.context["cl"].queryset}

    submitted = AnnualFiling.objects.exclude(status="draft")

    def of(**lookup):
        return set(submitted.filter(**lookup).values_list("pk", flat=True))

    three = submitted.filter(manager__real_name__regex=r"^.{3}$").first().manager
    # Three characters or more: anywhere in the name.
    assert found(three.real_name) == of(manager__real_name__contains=three.real_name)
    # Fewer: from the start of the name (a trigram index finds nothing shorter inside a name).
    assert found(three.real_name[:2]) == of(manager__real_name__startswith=three.real_name[:2])
    assert found(three.real_name[1:]) == of(manager__real_name__startswith=three.real_name[1:])
    # The registration number, exactly; the firm's name, in part.
    assert found(three.registration_number) == of(manager=three)
    firm = submitted.filter(firm__isnull=False).first().firm
    assert found(firm.name[-6:]) >= of(firm=firm)
    # Outside the official's jurisdiction nothing is found.
    county_official = as_user(
        BureauMembership.objects.filter(jurisdiction__level="county")
        .exclude(jurisdiction=three.jurisdiction)
        .first()
        .user
    )
    response = county_official.get(ADMIN_FILINGS, {"q": three.registration_number})
    assert list(response.context["cl"].queryset) == []
