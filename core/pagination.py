"""A paginator for lists of a whole province: counting 100,000 rows exactly on every page costs
more than the page itself, and nobody reads the last digit of "89,747 filings".

`EstimatedCountPaginator` counts at most `EXACT_UP_TO` rows (`SELECT count(*) FROM (... LIMIT
n)`, which stops early) and asks PostgreSQL's planner how many rows it expects (`EXPLAIN`, no
row read): two small queries, whatever the length. A list of up to `EXACT_UP_TO` rows gets its
exact count. A longer one gets the planner's figure, from the statistics autovacuum keeps:
close for plain filters, rougher for combinations, never below `EXACT_UP_TO`. The last pages of
a long list are then approximate: a page past the real end is empty, and rows past the
estimated end are reached by narrowing the list (filters, search), which is how such a list is
used anyway.
"""

from __future__ import annotations

import json

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

#: Lists up to this long are counted exactly.
EXACT_UP_TO = 1000


def estimated_count(queryset: QuerySet) -> int:
    """The planner's estimate of the number of rows of `queryset` (one EXPLAIN, no row read)."""
    queryset = queryset.order_by()
    try:
        sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
    except EmptyResultSet:  # .none(), or a filter that can match nothing
        return 0
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def bounded_count(queryset: QuerySet, limit: int) -> int:
    """The number of rows of `queryset`, counting no further than `limit`."""
    return queryset.order_by()[:limit].count()


class EstimatedCountPaginator(Paginator):
    """Counts short lists exactly and estimates long ones (see the module's docstring)."""

    exact_up_to = EXACT_UP_TO

    @cached_property
    def count(self) -> int:
        objects = self.object_list
        if not isinstance(objects, QuerySet) or connections[objects.db].vendor != "postgresql":
            return super().count
        # Both, always: a page costs the same number of queries however long its list is.
        estimate = estimated_count(objects)
        counted = bounded_count(objects, self.exact_up_to + 1)
        if counted <= self.exact_up_to:
            return counted
        return max(estimate, counted)
