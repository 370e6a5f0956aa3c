"""Benchmark of the credit recompute at the size of a province (not a pytest test).

    python tests/benchmarks/bench_credit.py      (or `make bench`, which runs every bench_*.py)

Builds a scratch database (see `_common.scratch_database`), fills it with `manage.py seed_scale
--managers N` (N: BENCH_CREDIT_MANAGERS, default 100,000: a province of 122 counties, ten study
records per manager of which one in twenty failed, conduct records, the closed year's
statuses), adds the year before's statuses (a third abnormal, so that "two abnormal years in a
row" lists managers), then measures:

* the first recompute of every manager's scores and the automatic listing rules (score rows,
  explanation lines, list entries and their notices), with its number of queries;
* the same run again (everything there: the lines rewritten, nobody listed twice);
* the recompute of one manager (what a decided objection or repair runs).

Only the BENCH lines go to stdout; progress goes to stderr.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from tests.benchmarks._common import bench, log, scratch_database  # noqa: E402

MANAGERS = int(os.environ.get("BENCH_CREDIT_MANAGERS", "100000"))


def main() -> None:
    from credit.models import CreditScore, ScoreLine, SupervisionEntry
    from credit.scoring import scores_recompute
    from notifications import services as notification_services
    from registry.models import RegistryStatus

    # The notices' e-mails are not what is measured: queue nothing.
    notification_services.emails_queue = lambda ids: None
    import credit.scoring as scoring

    scoring.emails_queue = lambda ids: None

    with scratch_database():
        log(f"seed_scale --managers {MANAGERS}")
        call_command("seed_scale", managers=MANAGERS, firms=max(1, min(2000, MANAGERS // 50)))
        year = RegistryStatus.objects.order_by("-year").values_list("year", flat=True).first()
        log(f"the statuses of {year - 1}, a third abnormal")
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO registry_registrystatus (year, status, reasons, manager_id,
                    jurisdiction_id, closed_on, decided_at, updated_at, removed_reasons)
                SELECT year - 1,
                       CASE WHEN manager_id %% 3 = 0 THEN 'abnormal' ELSE 'normal' END,
                       CASE WHEN manager_id %% 3 = 0 THEN ARRAY['not_filed']::varchar[]
                            ELSE ARRAY[]::varchar[] END,
                       manager_id, jurisdiction_id, closed_on - 365, decided_at - interval '365 days',
                       updated_at - interval '365 days', ARRAY[]::varchar[]
                FROM registry_registrystatus WHERE year = %s
                """,
                [year],
            )
            cursor.execute("ANALYZE")
        statuses = RegistryStatus.objects.count()
        log(f"{statuses:,} statuses; first recompute")
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = scores_recompute()
            seconds = time.perf_counter() - started
        for q in sorted(queries.captured_queries, key=lambda q: -float(q["time"]))[:6]:
            log(f"  {q['time']}s {' '.join(q['sql'].split())[:150]}")
        bench("credit_recompute_managers", MANAGERS, "managers", ".0f")
        bench("credit_recompute_first_seconds", seconds, "s")
        bench("credit_recompute_first_queries", len(queries), "queries", ".0f")
        bench("credit_recompute_scores", result.scores, "rows", ".0f")
        bench("credit_recompute_lines", result.lines, "rows", ".0f")
        bench("credit_recompute_listed", result.listed, "entries", ".0f")
        log(
            f"{CreditScore.objects.count():,} scores, {ScoreLine.objects.count():,} lines, "
            f"{SupervisionEntry.objects.count():,} list entries, {len(result.notices):,} notices"
        )
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            again = scores_recompute()
            seconds = time.perf_counter() - started
        bench("credit_recompute_again_seconds", seconds, "s")
        bench("credit_recompute_again_queries", len(queries), "queries", ".0f")
        bench("credit_recompute_again_listed", again.listed, "entries", ".0f")
        manager_id = CreditScore.objects.values_list("manager_id", flat=True).first()
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            scores_recompute(manager_ids=[manager_id], today=dt.date.today())
            seconds = time.perf_counter() - started
        bench("credit_recompute_one_manager_ms", seconds * 1000, "ms")
        bench("credit_recompute_one_manager_queries", len(queries), "queries", ".0f")


if __name__ == "__main__":
    main()
