"""Benchmark of the bureau dashboard and of a 100,000-row Excel export (not a pytest test).

    python tests/benchmarks/bench_dashboard.py      (or `make bench`, which runs every bench_*.py)
    BENCH_DASHBOARD_MANAGERS=10000 python tests/benchmarks/bench_dashboard.py   (a smaller run)

Builds a scratch database `<DATABASE name>_bench` (dropped first if a previous run left it
behind, always dropped at the end) holding `manage.py seed_scale`'s province (湖南省: 14
prefectures, 122 counties, 2,000 firms, 100,000 managers with a million study records, about
100,000 filings with their review events, the registry statuses of the closed year), then
measures:

* the nightly computation of the dashboard's figures (`dashboard_refresh`) of the closed year
  and of the year being filed;
* the dashboard page (/bureau/statistics/) of the province's official, of a prefecture's and of a
  county's, for both years: median of 5 renders after one warm-up, and the number of queries;
* the admin's export of the province's managers (every one of them: 100,000 rows, ID numbers
  in full as bureau staff read them) to .xlsx, read to the last byte as a client would, and the
  export of the year's filings.

Only the BENCH lines go to stdout; progress goes to stderr.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("DEBUG", "true")  # seed_scale publishes its password: DEBUG only

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from tests.benchmarks._common import bench, log, scratch_database  # noqa: E402

MANAGERS = int(os.environ.get("BENCH_DASHBOARD_MANAGERS", "100000"))
PAGE_RUNS = 5


def build() -> None:
    from django.core.management import call_command

    log(f"seed_scale --managers {MANAGERS:,} (a few minutes at 100,000)")
    started = time.perf_counter()
    call_command("seed_scale", managers=MANAGERS, stdout=io.StringIO(), stderr=sys.stderr)
    log(f"  built in {time.perf_counter() - started:.0f} s")


def years() -> tuple[int, int]:
    """seed_scale's closed year (statuses decided) and the year being filed."""
    from django.utils import timezone

    today = timezone.localdate()
    open_year = today.year if today.month > 3 else today.year - 1
    return open_year - 1, open_year


def bench_refresh() -> None:
    from overview.dashboard import dashboard_refresh
    from overview.models import AreaFigures, FilingDay

    for year, name in zip(years(), ("closed", "open"), strict=True):
        started = time.perf_counter()
        dashboard_refresh(year=year)
        seconds = time.perf_counter() - started
        log(
            f"  {year}: {AreaFigures.objects.filter(year=year).count():,} area rows, "
            f"{FilingDay.objects.filter(year=year).count():,} day rows"
        )
        bench(f"dashboard_refresh_{name}_year_{MANAGERS // 1000}k", seconds, "s")


def _client(user):
    from django.test import Client

    from tests.auth import mark_second_factor_passed, totp_activate

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    totp_activate(user)
    mark_second_factor_passed(client, user)
    return client


def _official(level: str):
    """The bureau account of the largest jurisdiction of that level (by managers)."""
    from django.db.models import Count

    from accounts.models import BureauMembership, ManagerProfile

    memberships = BureauMembership.objects.filter(jurisdiction__level=level).select_related(
        "user", "jurisdiction"
    )
    if level == "province":
        return memberships.first()
    sizes = dict(
        ManagerProfile.objects.values_list("jurisdiction__path")
        .annotate(n=Count("pk"))
        .values_list("jurisdiction__path", "n")
    )

    def size(m):
        return sum(n for path, n in sizes.items() if path and path.startswith(m.jurisdiction.path))

    return max(memberships, key=size)


def bench_pages() -> None:
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    url = reverse("overview:bureau_statistics")
    for level in ("province", "prefecture", "county"):
        membership = _official(level)
        client = _client(membership.user)
        for year, name in zip(years(), ("closed", "open"), strict=True):

            def get(client=client, year=year):
                response = client.get(url, {"year": year})
                if response.status_code != 200:
                    raise SystemExit(f"GET {url} answered {response.status_code}")
                return response

            body = get().content.decode()
            if 'id="dashboard-data"' not in body:
                raise SystemExit("the dashboard has no chart data")
            times = []
            for _ in range(PAGE_RUNS):
                started = time.perf_counter()
                get()
                times.append((time.perf_counter() - started) * 1000)
            with CaptureQueriesContext(connection) as queries:
                get()
            log(
                f"  {membership.jurisdiction.name} {year}: "
                + ", ".join(f"{t:.0f}" for t in times)
                + f" ms, {len(queries.captured_queries)} queries"
            )
            bench(f"dashboard_page_{level}_{name}_year", statistics.median(times), "ms", ".1f")
            if level == "province" and name == "closed":
                bench("dashboard_page_queries", len(queries.captured_queries), "queries", "d")


def bench_exports() -> None:
    from django.urls import reverse
    from openpyxl import load_workbook

    from accounts.models import ManagerProfile

    client = _client(_official("province").user)
    for model, params, name in [
        ("accounts_managerprofile", {}, "managers"),
        ("registry_annualfiling", {"year__exact": years()[1]}, "filings"),
    ]:
        url = reverse(f"admin:{model}_export_xlsx")
        started = time.perf_counter()
        response = client.get(url, params)
        size = sum(len(chunk) for chunk in response.streaming_content)
        seconds = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}")
        response = client.get(url, params)
        book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
        rows = sum(1 for _ in book.active.iter_rows(values_only=True)) - 1
        if name == "managers" and rows != ManagerProfile.objects.count():
            raise SystemExit(f"the export holds {rows:,} managers")
        log(f"  {name}: {rows:,} rows, {size / 1e6:.1f} MB in {seconds:.1f} s")
        bench(f"export_{name}_{rows // 1000}k_rows", seconds, "s")


def main() -> int:
    with scratch_database():
        build()
        log("the dashboard's nightly computation")
        bench_refresh()
        log(f"the dashboard page: 1 warm-up + {PAGE_RUNS} runs per official and year")
        bench_pages()
        log("the admin's Excel exports of the whole province")
        bench_exports()
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
