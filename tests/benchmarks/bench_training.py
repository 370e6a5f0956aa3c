"""Benchmark of the training app at the size of a large prefecture (not a pytest test).

    python tests/benchmarks/bench_training.py      (or `make bench`, which runs every bench_*.py)

Builds a scratch database `<DATABASE name>_bench` on the server of DATABASE_URL (dropped first if
a previous run left it behind, always dropped at the end), fills it with a firm of 2,000 current
managers holding 100,000 verified study records and 8,000 managers of other firms, then measures:

* the import of a 10,000-row CSV (10,000 distinct managers, 20 courses) by a provider;
* the firm's compliance page (/firm/compliance/) for the firm's reviewer: median of 5 renders
  after one warm-up, and its number of queries.

Only the BENCH lines go to stdout; progress goes to stderr.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from tests.benchmarks._common import bench, log, scratch_database  # noqa: E402

FIRM_MANAGERS = 2_000
OTHER_MANAGERS = 8_000  # with the firm's: 10,000 distinct managers in the import file
RECORDS_PER_FIRM_MANAGER = 50  # 2,000 × 50 = 100,000 verified study records
HISTORY_COURSES = RECORDS_PER_FIRM_MANAGER  # a course counts once per manager
IMPORT_COURSES = 20
IMPORT_ROWS = FIRM_MANAGERS + OTHER_MANAGERS
BATCH = 5_000
PAGE_RUNS = 5


# --- data --------------------------------------------------------------------------------------


def credit_code(n: int) -> str:
    from accounts.validators import credit_code_check_char

    first17 = f"91433101MA{n:07d}"
    return first17 + credit_code_check_char(first17)


def make_course(provider, code: str, hours: str, start: dt.date):
    from training.models import Course

    return Course.objects.create(
        provider=provider,
        code=code,
        title=f"课程 {code}",
        hours=Decimal(hours),
        mode=Course.Mode.ONLINE,
        category=Course.Category.LAW,
        start_date=start,
        end_date=dt.date(2026, 12, 31),
    )


def build() -> dict:
    from django.utils import timezone

    from accounts.models import Firm, FirmMembership, Jurisdiction, User
    from training.models import HoursRule, Provider, ProviderStaff, StudyRecord

    log("jurisdictions, firms, providers, hours rule")
    province = Jurisdiction.objects.create(
        code="430000", name="湖南省", level="province", path="430000/"
    )
    prefecture = Jurisdiction.objects.create(
        code="433100", name="湘西州", level="prefecture", parent=province, path="430000/433100/"
    )
    county = Jurisdiction.objects.create(
        code="433101",
        name="吉首市",
        level="county",
        parent=prefecture,
        path="430000/433100/433101/",
    )
    firm = Firm.objects.create(name="吉首市甲物业", credit_code=credit_code(1), jurisdiction=county)
    other_firm = Firm.objects.create(
        name="吉首市乙物业", credit_code=credit_code(2), jurisdiction=county
    )
    reviewer = User.objects.create_user(email="reviewer@bench.example.cn", password="pw-Bench-2026")
    FirmMembership.objects.create(user=reviewer, firm=firm, role=FirmMembership.Role.ADMIN)
    HoursRule.objects.create(
        jurisdiction=province, year=2026, annual_minimum=24, cycle_minimum=72, cycle_years=3
    )
    history = Provider.objects.create(
        name="历史培训机构",
        credit_code=credit_code(3),
        jurisdiction=prefecture,
        status=Provider.Status.APPROVED,
    )
    provider = Provider.objects.create(
        name="上报培训机构",
        credit_code=credit_code(4),
        jurisdiction=prefecture,
        status=Provider.Status.APPROVED,
    )
    provider_user = User.objects.create_user(
        email="provider@bench.example.cn", password="pw-Bench-2026"
    )
    ProviderStaff.objects.create(user=provider_user, provider=provider)
    history_courses = [
        make_course(history, f"HIST-{n:03d}", "8.0", dt.date(2022, 1, 1))
        for n in range(HISTORY_COURSES)
    ]
    import_courses = [
        make_course(provider, f"BENCH2026-{n:03d}", "12.0", dt.date(2026, 1, 1))
        for n in range(IMPORT_COURSES)
    ]

    log(f"{FIRM_MANAGERS:,} managers of the firm, {OTHER_MANAGERS:,} of another firm")
    from tests.factories import bulk_managers

    managers = bulk_managers(FIRM_MANAGERS, "firm", firm=firm, batch_size=BATCH)
    managers += bulk_managers(OTHER_MANAGERS, "other", firm=other_firm, batch_size=BATCH)

    total = FIRM_MANAGERS * RECORDS_PER_FIRM_MANAGER
    log(f"{total:,} verified study records")
    now = timezone.now()
    first_day = dt.date(2022, 1, 1)
    span = (dt.date(2026, 10, 31) - first_day).days
    batch: list[StudyRecord] = []
    made = 0
    for m, manager in enumerate(managers[:FIRM_MANAGERS]):
        for c, course in enumerate(history_courses):
            k = m * RECORDS_PER_FIRM_MANAGER + c
            batch.append(
                StudyRecord(
                    manager=manager,
                    course=course,
                    completed_on=first_day + dt.timedelta(days=(k * 37) % span),
                    hours=Decimal(2 + k % 7),
                    assessment=(
                        StudyRecord.Assessment.FAILED
                        if k % 10 == 0
                        else StudyRecord.Assessment.PASSED
                    ),
                    score=Decimal(55 + k % 45),
                    source=StudyRecord.Source.PROVIDER,
                    status=StudyRecord.Status.VERIFIED,
                    verified_at=now,
                )
            )
            if len(batch) == BATCH:
                StudyRecord.objects.bulk_create(batch)
                made += len(batch)
                batch = []
                if made % 25_000 == 0:
                    log(f"  {made:,} / {total:,}")
    StudyRecord.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "managers": managers,
        "reviewer": reviewer,
        "provider_user": provider_user,
        "import_courses": import_courses,
    }


def import_csv(managers, courses) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["身份证号", "姓名", "课程编号", "完成日期", "学时", "考核结果", "成绩"])
    for i, manager in enumerate(managers[:IMPORT_ROWS]):
        writer.writerow(
            [
                manager.id_number,
                manager.real_name,
                courses[i % len(courses)].code,
                (dt.date(2026, 2, 1) + dt.timedelta(days=i % 250)).isoformat(),
                f"{4 + i % 17 * 0.5:.1f}",
                "合格" if i % 20 else "不合格",
                str(60 + i % 40),
            ]
        )
    return out.getvalue().encode("utf-8-sig")


# --- measurements --------------------------------------------------------------------------------


def bench_import(data: dict) -> None:
    from training.imports import provider_report_import
    from training.models import StudyRecord

    content = import_csv(data["managers"], data["import_courses"])
    log(f"importing {IMPORT_ROWS:,} rows ({len(content) / 1024:.0f} KiB)")
    before = StudyRecord.objects.count()
    started = time.perf_counter()
    result = provider_report_import(
        actor=data["provider_user"], content=content, file_name="bench-10k.csv"
    )
    seconds = time.perf_counter() - started
    if not result.ok or result.created != IMPORT_ROWS:
        for error in result.errors[:10]:
            log(f"  row {error.row} {error.column}: {error.message}")
        raise SystemExit(f"the import did not create {IMPORT_ROWS} records: {result}")
    assert StudyRecord.objects.count() == before + IMPORT_ROWS
    log(f"  created {result.created:,} records")
    bench("import_10k_rows", seconds, "s")


def bench_compliance_page(data: dict) -> None:
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(data["reviewer"])
    url = reverse("training:firm_compliance")

    def get():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"GET {url} answered {response.status_code}")
        return response

    log(f"rendering {url}: 1 warm-up + {PAGE_RUNS} runs")
    body = get().content.decode()
    if "firm00000000" not in body:  # the first manager by name (bulk_managers names them firm0…)
        raise SystemExit("the compliance page lists no manager")
    times = []
    for _ in range(PAGE_RUNS):
        started = time.perf_counter()
        get()
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        get()
    log("  runs (ms): " + ", ".join(f"{t:.0f}" for t in times))
    bench("firm_compliance_page", statistics.median(times), "ms", ".1f")
    bench("firm_compliance_page_queries", len(queries.captured_queries), "queries", "d")


# --- the scratch database ----------------------------------------------------------------------


def main() -> int:
    with scratch_database():
        data = build()
        bench_import(data)
        bench_compliance_page(data)
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
