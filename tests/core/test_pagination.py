"""core.pagination: short lists counted exactly, long ones by the planner's estimate, always in
two small queries; an empty queryset costs nothing and breaks nothing."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import ManagerProfile
from core.pagination import EstimatedCountPaginator, bounded_count, estimated_count
from tests import factories as f


def analyze():
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE accounts_managerprofile, accounts_user")


@pytest.mark.django_db
def test_a_short_list_is_counted_exactly():
    f.bulk_managers(30, "PG")
    paginator = EstimatedCountPaginator(ManagerProfile.objects.order_by("pk"), 10)
    assert paginator.count == 30
    assert paginator.num_pages == 3


@pytest.mark.django_db
def test_a_long_list_is_estimated_in_two_queries_not_counted(settings):
    f.bulk_managers(1500, "PG", batch_size=1500)
    analyze()
    qs = ManagerProfile.objects.order_by("pk")
    with CaptureQueriesContext(connection) as ctx:
        count = EstimatedCountPaginator(qs, 100).count
    assert len(ctx.captured_queries) == 2
    assert ctx.captured_queries[0]["sql"].startswith("EXPLAIN")
    assert "LIMIT 1001" in ctx.captured_queries[1]["sql"]
    assert 1000 < count and abs(count - 1500) < 300
    assert estimated_count(qs) > 1000
    assert bounded_count(qs, 1001) == 1001


@pytest.mark.django_db
def test_an_empty_queryset_counts_zero():
    paginator = EstimatedCountPaginator(ManagerProfile.objects.none(), 10)
    assert paginator.count == 0
    assert list(paginator.get_page(1)) == []
