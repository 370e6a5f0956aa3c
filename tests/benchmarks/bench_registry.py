"""Benchmark of the registry's daily jobs at the size of a large prefecture (not a pytest test).

    python tests/benchmarks/bench_registry.py      (or `make bench`, which runs every bench_*.py)

Builds a scratch database `<DATABASE name>_bench` on the server of DATABASE_URL (dropped first if
a previous run left it behind, always dropped at the end), fills it with one prefecture of eight
counties holding 200 firms and 100,000 registered managers (one reviewer per firm, an hours rule
of 24 hours for 2026, one study record each of which a third fall short, 2026 filings in every
state for half of them, 200 bad conduct records), then measures, for the 2026 filing (default
window 2027-01-01 to 2027-03-31):

* the reminder job on 2027-03-01 (the d30 milestone), with the commit and the queueing of the
  e-mail tasks to Redis, and its number of queries; then the same run again (creates nothing);
* the closing of the window on 2027-04-01, and its number of queries;
* the sending of 5,000 pending notices by `send_notice_batch` (locmem e-mail backend).

The e-mail tasks go to a queue of their own (CELERY_TASK_DEFAULT_QUEUE=bench-<random>) that no
worker listens to; it is deleted from Redis at the end.

Only the BENCH lines go to stdout; progress goes to stderr.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import sys
import time
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# The e-mail tasks the jobs queue go to a queue no worker listens to (deleted at the end), and
# really go to the broker: the cost of queueing them is part of what is measured.
QUEUE = f"bench-{secrets.token_hex(6)}"
os.environ["CELERY_TASK_DEFAULT_QUEUE"] = QUEUE
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402

from tests.benchmarks._common import bench, log, scratch_database  # noqa: E402

YEAR = 2026  # its window is the default one: 2027-01-01 to 2027-03-31
REMINDER_DAY = dt.date(2027, 3, 1)  # the d30 milestone
CLOSING_DAY = dt.date(2027, 4, 1)  # the day after the close
MANAGERS = 100_000
FIRMS = 200
CONDUCT_RECORDS = 200
ANNUAL_MINIMUM = 24
SEND_SAMPLE = 5_000
BATCH = 5_000
SH = ZoneInfo("Asia/Shanghai")
COUNTIES = [
    ("433101", "吉首市"),
    ("433122", "泸溪县"),
    ("433123", "凤凰县"),
    ("433124", "花垣县"),
    ("433125", "保靖县"),
    ("433126", "古丈县"),
    ("433127", "永顺县"),
    ("433130", "龙山县"),
]


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SH)


# --- data --------------------------------------------------------------------------------------


def credit_code(region: str, n: int) -> str:
    from accounts.validators import credit_code_check_char

    first17 = f"91{region}MA{n:07d}"
    return first17 + credit_code_check_char(first17)


def bulk(model, objs: Iterable, what: str | None = None) -> list:
    """`objs` inserted in batches of BATCH, with their primary keys; progress every 25,000."""
    made: list = []
    batch: list = []
    for obj in objs:
        batch.append(obj)
        if len(batch) == BATCH:
            made += model.objects.bulk_create(batch)
            batch = []
            reset_queries()  # DEBUG keeps the SQL of each statement: not of 5,000-row inserts
            if what and len(made) % 25_000 == 0:
                log(f"  {what}: {len(made):,}")
    if batch:
        made += model.objects.bulk_create(batch)
    reset_queries()
    return made


def filing_state(i: int) -> str | None:
    """Manager i's 2026 filing: 30 % approved, 10 % awaiting the firm, 5 % awaiting the
    bureau, 5 % returned, 50 % none."""
    from registry.models import AnnualFiling

    S = AnnualFiling.Status
    r = i % 20
    if r < 6:
        return S.APPROVED
    if r < 8:
        return S.AWAITING_FIRM
    if r < 9:
        return S.AWAITING_BUREAU
    if r < 10:
        return S.RETURNED
    return None


def is_short(i: int) -> bool:
    """A third of the managers are short of the 24 hours (i % 3 and i % 20 are independent)."""
    return i % 3 == 0


def build() -> dict:
    from django.utils import timezone

    from accounts.models import (
        Employment,
        Firm,
        FirmMembership,
        Jurisdiction,
        ManagerProfile,
        User,
    )
    from accounts.services import id_number_hash
    from registry.models import AnnualFiling, ConductRecord, ReviewEvent
    from tests.factories import make_id_number
    from training.models import HoursRule, StudyRecord

    log("jurisdictions, firms, reviewers, hours rule")
    province = Jurisdiction.objects.create(
        code="430000", name="湖南省", level="province", path="430000/"
    )
    prefecture = Jurisdiction.objects.create(
        code="433100", name="湘西州", level="prefecture", parent=province, path="430000/433100/"
    )
    counties = [
        Jurisdiction.objects.create(
            code=code,
            name=name,
            level="county",
            parent=prefecture,
            path=f"{prefecture.path}{code}/",
        )
        for code, name in COUNTIES
    ]
    firms = Firm.objects.bulk_create(
        [
            Firm(
                name=f"{counties[f % len(counties)].name}物业服务有限公司{f:03d}",
                credit_code=credit_code(counties[f % len(counties)].code, f),
                jurisdiction=counties[f % len(counties)],
            )
            for f in range(FIRMS)
        ]
    )
    reviewers = User.objects.bulk_create(
        [User(email=f"reviewer-{f:03d}@bench.example.cn", password="!") for f in range(FIRMS)]
    )
    FirmMembership.objects.bulk_create(
        [
            FirmMembership(user=user, firm=firm, role=FirmMembership.Role.REVIEWER)
            for user, firm in zip(reviewers, firms, strict=True)
        ]
    )
    bureau = User.objects.create_user(email="bureau@bench.example.cn", password="pw-Bench-2026")
    HoursRule.objects.create(jurisdiction=province, year=YEAR, annual_minimum=ANNUAL_MINIMUM)

    def firm_of(i: int) -> int:
        return i * FIRMS // MANAGERS

    log(f"{MANAGERS:,} managers in {FIRMS} firms of {len(counties)} counties")
    users = bulk(
        User,
        (User(email=f"m{i:06d}@bench.example.cn", password="!") for i in range(MANAGERS)),
        "users",
    )
    registered = at(dt.date(2025, 6, 1))

    def profiles():
        for i, user in enumerate(users):
            number = make_id_number()
            yield ManagerProfile(
                user=user,
                real_name=f"管理员{i:06d}",
                id_number=number,
                id_number_hash=id_number_hash(number),
                phone="13900000000",
                education="bachelor",
                registration_number=f"BM{i:08d}",
                completed_at=registered,
                registration_status="registered",
                registered_at=registered,
                jurisdiction_id=firms[firm_of(i)].jurisdiction_id,
            )

    managers = bulk(ManagerProfile, profiles(), "profiles")
    bulk(
        Employment,
        (
            Employment(
                manager=m,
                firm=firms[firm_of(i)],
                status=Employment.Status.ACTIVE,
                start_date=dt.date(2022, 1, 1),
                requested_by_id=m.user_id,
            )
            for i, m in enumerate(managers)
        ),
        "employments",
    )

    log(f"{MANAGERS:,} study records for {YEAR} (a third short of {ANNUAL_MINIMUM} hours)")
    now = timezone.now()
    bulk(
        StudyRecord,
        (
            StudyRecord(
                manager=m,
                external_title=f"继续教育 {YEAR}",
                external_provider="湘西州物业管理协会",
                completed_on=dt.date(YEAR, 1 + i % 11, 15),
                hours=Decimal(8 + 4 * (i % 4)) if is_short(i) else Decimal(24 + 2 * (i % 5)),
                assessment=StudyRecord.Assessment.PASSED,
                source=StudyRecord.Source.PROVIDER,
                status=StudyRecord.Status.VERIFIED,
                verified_at=now,
            )
            for i, m in enumerate(managers)
        ),
        "study records",
    )

    log(f"{YEAR} filings, review events")
    S = AnnualFiling.Status

    def filings():
        for i, m in enumerate(managers):
            state = filing_state(i)
            if state is None:
                continue
            firm = firms[firm_of(i)]
            submitted = at(dt.date(2027, 1, 4) + dt.timedelta(days=i % 40))
            forwarded = submitted + dt.timedelta(days=3)
            yield AnnualFiling(
                manager=m,
                year=YEAR,
                status=state,
                firm=firm,
                jurisdiction_id=firm.jurisdiction_id,
                round=1,
                submitted_at=submitted,
                firm_approved_at=forwarded if state in (S.AWAITING_BUREAU, S.APPROVED) else None,
                approved_at=forwarded + dt.timedelta(days=5) if state == S.APPROVED else None,
                certificate_code=f"BA{YEAR}{i:08d}" if state == S.APPROVED else None,
                return_reason="劳动合同照片不清晰，请重新上传。" if state == S.RETURNED else "",
            )

    made = bulk(AnnualFiling, filings(), "filings")
    reviewer_of = {firm.pk: user for firm, user in zip(firms, reviewers, strict=True)}
    A = ReviewEvent.Action

    def events():
        for filing in made:
            yield ReviewEvent(
                filing=filing,
                actor_id=filing.manager.user_id,
                action=A.SUBMIT,
                from_status=S.DRAFT,
                to_status=S.AWAITING_FIRM,
            )
            if filing.status == S.RETURNED:
                yield ReviewEvent(
                    filing=filing,
                    actor=reviewer_of[filing.firm_id],
                    action=A.FIRM_RETURN,
                    from_status=S.AWAITING_FIRM,
                    to_status=S.RETURNED,
                    reason=filing.return_reason,
                )

    bulk(ReviewEvent, events(), "review events")
    # created_at is auto_now_add (bulk_create sets it to now): date the events as in the window,
    # the returns before the d30 milestone.
    ReviewEvent.objects.filter(action=A.SUBMIT).update(created_at=at(dt.date(2027, 1, 20)))
    ReviewEvent.objects.filter(action=A.FIRM_RETURN).update(created_at=at(dt.date(2027, 2, 15)))

    log(f"{CONDUCT_RECORDS} bad conduct records")
    step = MANAGERS // CONDUCT_RECORDS
    bulk(
        ConductRecord,
        (
            ConductRecord(
                manager=managers[n * step + 7],
                kind=ConductRecord.Kind.BAD,
                occurred_on=dt.date(YEAR, 6, 1),
                summary="未按合同约定履行物业服务义务",
                evidence="conduct/bench.png",
                evidence_name="bench.png",
                effective_from=dt.date(YEAR, 6, 1),
                recorded_by=bureau,
            )
            for n in range(CONDUCT_RECORDS)
        ),
    )
    counts = {
        state.label: AnnualFiling.objects.filter(year=YEAR, status=state).count() for state in S
    }
    log("  filings: " + ", ".join(f"{label} {n:,}" for label, n in counts.items()))
    log("ANALYZE")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"managers": len(managers)}


# --- the Celery queue --------------------------------------------------------------------------


def queued() -> int:
    """Tasks waiting in the benchmark's queue."""
    from portal.celery import app

    with app.connection_for_write() as conn:
        return conn.default_channel.client.llen(QUEUE)


def delete_queue() -> None:
    from portal.celery import app

    with app.connection_for_write() as conn:
        channel = conn.default_channel
        # The channel only deletes the queues it knows of: declare it (and its binding) first.
        queue = app.amqp.queues[QUEUE].bind(channel)
        queue.declare()
        queue.delete()


# --- measurements --------------------------------------------------------------------------------


def bench_reminders() -> None:
    from django.test.utils import CaptureQueriesContext

    from registry import jobs

    log(f"reminders_run(day={REMINDER_DAY})")
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = jobs.reminders_run(day=REMINDER_DAY)
        seconds = time.perf_counter() - started
    created = dict(result.created)
    log("  created: " + ", ".join(f"{kind} {n:,}" for kind, n in sorted(created.items())))
    log(f"  {len(result.to_send):,} e-mails to send; {queued():,} tasks in the queue {QUEUE}")
    if not created:
        raise SystemExit("the reminder job created no notice")
    bench("reminders_100k", seconds, "s")
    bench("reminders_100k_queries", len(queries.captured_queries), "queries", "d")
    _slowest(queries.captured_queries)

    log(f"reminders_run(day={REMINDER_DAY}) again")
    started = time.perf_counter()
    again = jobs.reminders_run(day=REMINDER_DAY)
    seconds = time.perf_counter() - started
    if sum(again.created.values()):
        raise SystemExit(f"the second run created notices: {dict(again.created)}")
    log(f"  created nothing; {len(again.to_send):,} e-mails queued again")
    bench("reminders_100k_rerun", seconds, "s")


def bench_close_window() -> None:
    from django.test.utils import CaptureQueriesContext

    from registry import status

    log(f"windows_close(day={CLOSING_DAY})")
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = status.windows_close(day=CLOSING_DAY)
        seconds = time.perf_counter() - started
    log(
        f"  {result.scopes} scope(s); decided: "
        + ", ".join(f"{status} {n:,}" for status, n in sorted(result.decided.items()))
    )
    log("  notices: " + ", ".join(f"{kind} {n:,}" for kind, n in sorted(result.notices.items())))
    log(f"  {len(result.to_send):,} e-mails to send; {queued():,} tasks in the queue {QUEUE}")
    if sum(result.decided.values()) == 0:
        raise SystemExit("the closing decided no status")
    bench("close_window_100k", seconds, "s")
    bench("close_window_100k_queries", len(queries.captured_queries), "queries", "d")
    _slowest(queries.captured_queries)


def bench_send_emails() -> None:
    from django.core import mail

    from notifications.models import Notice
    from notifications.services import send_notice_batch

    pending = list(
        Notice.objects.filter(email_state=Notice.EmailState.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    # Every n-th pending notice: a mix of the kinds the two jobs made.
    ids = pending[:: max(1, len(pending) // SEND_SAMPLE)][:SEND_SAMPLE]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox = []
    log(f"send_notice_batch({len(ids):,} pending notices), locmem e-mail backend")
    started = time.perf_counter()
    sent, failed = send_notice_batch(ids)
    seconds = time.perf_counter() - started
    if failed or len(sent) != len(ids) or len(mail.outbox) != len(ids):
        raise SystemExit(f"sent {len(sent)}, failed {len(failed)}: {list(failed.items())[:3]}")
    log(f"  sent {len(sent):,}")
    bench("send_emails_5k", seconds, "s")


def _slowest(captured: list[dict], top: int = 3) -> None:
    """The slowest statements of a run, on stderr (Django's own timing of each one)."""
    for q in sorted(captured, key=lambda q: float(q["time"]), reverse=True)[:top]:
        sql = " ".join(q["sql"].split())
        kind = re.search(r"'(\w+)' AS \"n_kind\"", sql)  # the notices an INSERT … SELECT makes
        label = f"INSERT INTO registry_notice: {kind[1]}" if kind else sql[:100] + "…"
        log(f"  {float(q['time']):7.2f}s  {label}")


# --- the scratch database ----------------------------------------------------------------------


def main() -> int:
    try:
        with scratch_database():
            started = time.perf_counter()
            build()
            log(f"built in {time.perf_counter() - started:.0f} s")
            bench_reminders()
            bench_close_window()
            bench_send_emails()
    finally:
        try:
            log(f"deleting the queue {QUEUE}: {queued():,} sending tasks were queued")
            delete_queue()
        except Exception as exc:  # noqa: BLE001 (Redis down: say so)
            log(f"could not delete the queue {QUEUE}: {type(exc).__name__}: {exc}")
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
