"""The first-quarter cycle in bulk: the daily reminders and the closing of the windows.

Both jobs work from the database state of the day they are run for, never from queued timers,
and both are safe to run twice, at the same time, or again after a crash:

* every reminder is a `Notice` keyed by (recipient, year, kind, milestone) under a unique
  constraint; it is inserted (``INSERT … SELECT … ON CONFLICT DO NOTHING``) before its e-mail
  is queued, and only the run that inserted it queues it;
* a status is inserted once per (manager, year) the same way, with its credit-record entry in
  the same statement.

The managers are never loaded one by one: each statement covers every manager that shares a
window, a deadline and an hours rule (a "scope"), so the number of queries grows with the number
of distinct windows and rules, not with the number of managers.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import JSONObject
from django.urls import reverse
from django.utils import timezone

from accounts.models import Employment, FirmMembership, Jurisdiction, ManagerProfile
from core.jurisdictions import nearest
from training.models import HoursRule
from training.selectors import with_compliance

from .models import (
    AnnualFiling,
    ConductRecord,
    CreditEntry,
    FilingExtension,
    FilingWindow,
    Notice,
    RegistryStatus,
    ReviewEvent,
    StatusReason,
)
from .selectors import default_window, in_force_between
from .tasks import queue_emails

Kind = Notice.Kind
Status = AnnualFiling.Status
#: Filings that are in the hands of the reviewers or done: their manager has submitted.
SUBMITTED = (Status.AWAITING_FIRM, Status.AWAITING_BUREAU, Status.APPROVED)
#: One advisory lock for both jobs: two beats at once run one after the other.
_LOCK_KEY = 0x5245_4749  # "REGI"
#: The notices the daily job makes (the rest come from the filing workflow).
JOB_KINDS = (
    Kind.REMIND_NOT_SUBMITTED,
    Kind.REMIND_HOURS_SHORT,
    Kind.REMIND_RETURNED,
    Kind.REMIND_FIRM_DIGEST,
    Kind.STATUS_ABNORMAL,
    Kind.FIRM_ABNORMAL,
)


# --- scopes: managers sharing one window, deadline and rule --------------------------------------


@dataclass
class Scope:
    year: int
    opens_on: dt.date
    last_day: dt.date  # the window's close, or an extension's later deadline
    rule: HoursRule | None
    jurisdiction_ids: list[int] = field(default_factory=list)
    manager_ids: list[int] | None = None  # managers with an extension: listed one by one
    exclude_ids: list[int] = field(default_factory=list)  # …and left out of their jurisdiction

    def managers(self) -> QuerySet[ManagerProfile]:
        """The registered, active managers of the scope."""
        qs = ManagerProfile.objects.filter(
            completed_at__isnull=False, user__is_active=True
        ).order_by()
        if self.manager_ids is not None:
            qs = qs.filter(pk__in=self.manager_ids)
        else:
            qs = qs.filter(jurisdiction_id__in=self.jurisdiction_ids)
        if self.exclude_ids:
            qs = qs.exclude(pk__in=self.exclude_ids)
        return qs

    def due_milestone(self, day: dt.date, days_before: Iterable[int]) -> tuple[str, dt.date] | None:
        """The latest milestone due on `day` (opening, then N days before the last day), or
        None outside the window. Missed milestones are not returned: after downtime only the
        latest due one is sent."""
        if not self.opens_on <= day <= self.last_day:
            return None
        milestones = [("open", self.opens_on)] + [
            (f"d{n}", self.last_day - dt.timedelta(days=n))
            for n in sorted(set(days_before), reverse=True)
        ]
        due = [(date, i, key) for i, (key, date) in enumerate(milestones) if date <= day]
        date, _, key = max(due)
        return key, date


def scopes_for(year: int) -> list[Scope]:
    """Every scope of a year, in four queries whatever the number of managers: the same
    inheritance as `selectors.window_for` and `training.selectors.hours_rule_for`."""
    jurisdictions = list(Jurisdiction.objects.values_list("pk", "path"))
    windows = {
        code: (opens, closes)
        for code, opens, closes in FilingWindow.objects.filter(year=year).values_list(
            "jurisdiction__code", "opens_on", "closes_on"
        )
    }
    rules = {
        r.jurisdiction.code: r
        for r in HoursRule.objects.filter(year=year).select_related("jurisdiction")
    }
    default = default_window(year)
    groups: dict[tuple, Scope] = {}
    effective: dict[int, tuple] = {}
    for pk, path in jurisdictions:
        opens, closes = nearest(path, windows) or (default.opens_on, default.closes_on)
        rule = nearest(path, rules)
        key = (opens, closes, rule.pk if rule else None)
        effective[pk] = (opens, closes, rule)
        groups.setdefault(key, Scope(year, opens, closes, rule)).jurisdiction_ids.append(pk)
    extended: dict[tuple, Scope] = {}
    for manager_id, until, jurisdiction_id in FilingExtension.objects.filter(
        year=year, manager__jurisdiction__isnull=False
    ).values_list("manager_id", "until", "manager__jurisdiction_id"):
        opens, closes, rule = effective[jurisdiction_id]
        if until <= closes:
            continue
        groups[(opens, closes, rule.pk if rule else None)].exclude_ids.append(manager_id)
        key = (opens, until, rule.pk if rule else None)
        scope = extended.setdefault(key, Scope(year, opens, until, rule, manager_ids=[]))
        scope.manager_ids.append(manager_id)
    return list(groups.values()) + list(extended.values())


# --- inserting notices in bulk ---------------------------------------------------------------

_NOTICE_COLUMNS = (
    "recipient_id",
    "kind",
    "params",
    "link",
    "year",
    "milestone",
    "filing_id",
    "created_at",
    "email_state",
    "email_error",
    "attempts",
)


def _notice_rows(
    qs: QuerySet,
    *,
    recipient: str,
    kind: str,
    params: JSONObject,
    link: str,
    year: int,
    milestone: str,
    now: dt.datetime,
    filing: str | None = None,
) -> QuerySet:
    """`qs` as the rows of new notices, in the order of `_NOTICE_COLUMNS`."""
    return qs.annotate(
        n_recipient=F(recipient),
        n_kind=Value(kind, output_field=CharField()),
        n_params=params,
        n_link=Value(link, output_field=CharField()),
        n_year=Value(year, output_field=IntegerField()),
        n_milestone=Value(milestone, output_field=CharField()),
        n_filing=F(filing) if filing else Value(None, output_field=IntegerField()),
        n_created=Value(now, output_field=DateTimeField()),
        n_state=Value(Notice.EmailState.PENDING, output_field=CharField()),
        n_error=Value("", output_field=CharField()),
        n_attempts=Value(0, output_field=IntegerField()),
    ).values_list(
        "n_recipient",
        "n_kind",
        "n_params",
        "n_link",
        "n_year",
        "n_milestone",
        "n_filing",
        "n_created",
        "n_state",
        "n_error",
        "n_attempts",
    )


def _insert(table: str, columns: Iterable[str], rows: QuerySet, returning: str = "id") -> list:
    """``INSERT INTO table (columns) <rows> ON CONFLICT DO NOTHING RETURNING <returning>``: one
    statement whatever the number of rows; only the rows this statement inserted come back."""
    sql, params = rows.query.sql_with_params()
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({names}) {sql} ON CONFLICT DO NOTHING RETURNING {returning}",
            params,
        )
        return [row[0] for row in cursor.fetchall()]


def _insert_notices(rows: QuerySet) -> list[int]:
    return _insert(Notice._meta.db_table, _NOTICE_COLUMNS, rows)


def _filing_of_year(year: int) -> QuerySet[AnnualFiling]:
    return AnnualFiling.objects.filter(manager=OuterRef("pk"), year=year).order_by()


# --- the reminder job ------------------------------------------------------------------------


@dataclass
class RunResult:
    """What a run did: notices created per kind, and the ids whose e-mails it queued."""

    created: Counter = field(default_factory=Counter)
    to_send: list[int] = field(default_factory=list)

    def add(self, kind: str, ids: list[int]) -> None:
        self.created[kind] += len(ids)
        self.to_send += ids


def reminders_run(*, day: dt.date, queue: bool = True) -> RunResult:
    """Create the reminders due on `day` and queue their e-mails (after the commit).

    For each scope whose window is open on `day`, the latest milestone due (see
    `Scope.due_milestone`) to managers who have not submitted, to those short of hours, and to
    those whose returned filing waits for them; then one digest per firm reviewer with
    filings waiting. The run also queues again the e-mails of earlier runs still pending or
    failed."""
    result = RunResult()
    now = timezone.now()
    with transaction.atomic():
        _lock()
        for year in (day.year - 1, day.year):
            for scope in scopes_for(year):
                due = scope.due_milestone(day, settings.REGISTRY_REMINDER_DAYS_BEFORE_CLOSE)
                if due is None:
                    continue
                _remind_managers(scope, day=day, milestone=due, now=now, result=result)
        _remind_firms(day=day, now=now, result=result)
        result.to_send += _unsent_ids(now=now, exclude=set(result.to_send))
        if queue:
            queue_emails(result.to_send)
    return result


def daily_run(*, day: dt.date, queue: bool = True) -> tuple[CloseResult, RunResult]:
    """The daily job: close the windows whose deadline has passed, then remind."""
    return windows_close(day=day, queue=queue), reminders_run(day=day, queue=queue)


def _lock() -> None:
    """Serialise the runs (two beats at once), and spare the planner's JIT: the statements are
    few and large, and compiling them cost more than it saved."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        cursor.execute("SET LOCAL jit = off")


def _remind_managers(
    scope: Scope, *, day: dt.date, milestone: tuple[str, dt.date], now, result: RunResult
) -> None:
    key, due_on = milestone
    year = scope.year
    common = {
        "year": Value(year),
        "closes_on": Value(scope.last_day.isoformat()),
        "days_left": Value((scope.last_day - day).days),
    }

    def remind(kind: str, rows: QuerySet, link: str, filing: str | None = None, **params) -> None:
        notices = _notice_rows(
            rows,
            recipient="user_id",
            kind=kind,
            params=JSONObject(**common, **params),
            link=link,
            year=year,
            milestone=key,
            now=now,
            filing=filing,
        )
        result.add(kind, _insert_notices(notices))

    filing_page = reverse("registry:my_filing") + f"?year={year}"
    managers = scope.managers().annotate(
        filing_status=Subquery(_filing_of_year(year).values("status")[:1])
    )
    remind(
        Kind.REMIND_NOT_SUBMITTED,
        managers.filter(Q(filing_status__isnull=True) | Q(filing_status=Status.DRAFT)),
        filing_page,
    )
    # A returned filing: only if it was returned before the milestone fell due (the return
    # itself was notified at once).
    last_return = (
        ReviewEvent.objects.filter(
            filing__manager=OuterRef("pk"), filing__year=year, to_status=Status.RETURNED
        )
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    returned = managers.filter(filing_status=Status.RETURNED).annotate(
        returned_at=Subquery(last_return),
        filing_pk=Subquery(_filing_of_year(year).values("pk")[:1]),
        reason=Subquery(_filing_of_year(year).values("return_reason")[:1]),
    )
    start_of_due = timezone.make_aware(dt.datetime.combine(due_on, dt.time.min))
    remind(
        Kind.REMIND_RETURNED,
        returned.filter(returned_at__lt=start_of_due),
        filing_page,
        filing="filing_pk",
        reason=F("reason"),
    )
    if scope.rule is None:
        return
    # Hours short: those who can still add records (not submitted, or returned).
    short = with_compliance(
        scope.managers().filter(~Exists(_filing_of_year(year).filter(status__in=SUBMITTED))),
        rule=scope.rule,
        year=year,
    ).filter(hours_needed__gt=0)
    remind(
        Kind.REMIND_HOURS_SHORT,
        short,
        reverse("training:study_hours") + f"?year={year}",
        needed=F("hours_needed"),
    )


def _remind_firms(*, day: dt.date, now, result: RunResult) -> None:
    """One digest a day per firm reviewer with filings waiting for the firm: how many, and
    since when the oldest waits. Keyed by the day, so a second run that day sends nothing."""
    years = (
        AnnualFiling.objects.filter(status=Status.AWAITING_FIRM)
        .order_by()
        .values_list("year", flat=True)
        .distinct()
    )
    for year in list(years):
        # One join grouped by reviewer (not a correlated subquery per reviewer: its plan
        # degrades with the number of filings).
        reviewers = (
            FirmMembership.objects.filter(
                user__is_active=True,
                firm__filings__status=Status.AWAITING_FIRM,
                firm__filings__year=year,
                firm__filings__manager__employments__firm_id=F("firm_id"),
                firm__filings__manager__employments__status=Employment.Status.ACTIVE,
            )
            .annotate(waiting=Count("firm__filings"), oldest=Min("firm__filings__submitted_at"))
            .order_by()
        )
        result.add(
            Kind.REMIND_FIRM_DIGEST,
            _insert_notices(
                _notice_rows(
                    reviewers,
                    recipient="user_id",
                    kind=Kind.REMIND_FIRM_DIGEST,
                    params=JSONObject(year=Value(year), count=F("waiting"), oldest=F("oldest")),
                    link=reverse("registry:firm_queue"),
                    year=year,
                    milestone=day.isoformat(),
                    now=now,
                )
            ),
        )


#: Pending e-mails older than this were never queued (or the queue lost them): queue them again.
STALE_PENDING = dt.timedelta(minutes=30)
#: Failed e-mails are tried again by the daily job for this long, then left to the admin.
RETRY_FOR = dt.timedelta(days=7)


def _unsent_ids(*, now: dt.datetime, exclude: set[int]) -> list[int]:
    """E-mails to queue again: pending but never sent (the run that made them died before
    queueing them, or the queue lost them), and failed in the last week. Never those left
    `sending` by a worker that died: they may have gone out."""
    ids = Notice.objects.filter(
        Q(email_state=Notice.EmailState.PENDING, created_at__lt=now - STALE_PENDING)
        | Q(email_state=Notice.EmailState.FAILED),
        created_at__gte=now - RETRY_FOR,
    ).values_list("pk", flat=True)
    return [pk for pk in ids if pk not in exclude]


# --- closing the window: the year's registry status -----------------------------------------------


def status_candidates(
    managers: QuerySet[ManagerProfile], *, year: int, last_day: dt.date, rule: HoursRule | None
) -> QuerySet[ManagerProfile]:
    """Managers annotated with the reasons they would be abnormal for the year, as booleans:
    not_filed, not_approved, hours_short, bad_conduct. The one computation of the status, for
    the closing (in bulk) and for a change after it (one manager)."""
    filing_status = Subquery(_filing_of_year(year).values("status")[:1])
    bad = ConductRecord.objects.filter(
        in_force_between(dt.date(year, 1, 1), last_day),
        manager=OuterRef("pk"),
        kind=ConductRecord.Kind.BAD,
    )
    if rule is None:
        qs = managers.annotate(hours_short=Value(False, output_field=BooleanField()))
    else:
        qs = with_compliance(managers, rule=rule, year=year).annotate(
            hours_short=_flag(Q(hours_needed__gt=0))
        )
    pending = [Status.AWAITING_FIRM, Status.AWAITING_BUREAU, Status.RETURNED]
    return qs.annotate(filing_status=filing_status).annotate(
        not_filed=_flag(Q(filing_status__isnull=True) | Q(filing_status=Status.DRAFT)),
        not_approved=_flag(Q(filing_status__in=pending)),
        bad_conduct=Exists(bad),
    )


def _flag(condition: Q) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


REASON_FLAGS = [
    (StatusReason.NOT_FILED, "not_filed"),
    (StatusReason.NOT_APPROVED, "not_approved"),
    (StatusReason.HOURS_SHORT, "hours_short"),
    (StatusReason.BAD_CONDUCT, "bad_conduct"),
]


@dataclass
class CloseResult:
    decided: Counter = field(default_factory=Counter)  # status → managers
    notices: Counter = field(default_factory=Counter)  # kind → notices created
    to_send: list[int] = field(default_factory=list)
    scopes: int = 0


def windows_close(*, day: dt.date, year: int | None = None, queue: bool = True) -> CloseResult:
    """Give every manager whose deadline for `year` (default: last year and this year) has
    passed by `day` the year's registry status, if not given yet; write it to the credit
    record; notify the abnormal managers and the reviewers of their firms.

    A manager registered after the close is not judged for that year."""
    result = CloseResult()
    now = timezone.now()
    years = [year] if year else [day.year - 1, day.year]
    with transaction.atomic():
        _lock()
        for y in years:
            for scope in scopes_for(y):
                if scope.last_day >= day:
                    continue
                result.scopes += 1
                _close_scope(scope, now=now, result=result)
        if result.decided:
            for y in years:
                _notify_abnormal(year=y, now=now, result=result)
        if queue:
            queue_emails(result.to_send)
    return result


def _close_scope(scope: Scope, *, now: dt.datetime, result: CloseResult) -> None:
    end_of_last_day = timezone.make_aware(
        dt.datetime.combine(scope.last_day + dt.timedelta(days=1), dt.time.min)
    )
    managers = scope.managers().filter(completed_at__lt=end_of_last_day)
    managers = managers.exclude(
        Exists(RegistryStatus.objects.filter(manager=OuterRef("pk"), year=scope.year))
    )
    candidates = (
        status_candidates(managers, year=scope.year, last_day=scope.last_day, rule=scope.rule)
        .annotate(m_id=F("pk"), m_jurisdiction=F("jurisdiction_id"))
        .values_list("m_id", "m_jurisdiction", *(flag for _, flag in REASON_FLAGS))
    )
    select, params = candidates.query.sql_with_params()
    reasons = ", ".join(
        f"CASE WHEN c.{flag} THEN '{reason.value}' END" for reason, flag in REASON_FLAGS
    )
    q = connection.ops.quote_name
    status_table, credit_table = RegistryStatus._meta.db_table, CreditEntry._meta.db_table
    sql = f"""
        WITH c AS ({select}),
        r AS (
            SELECT c.m_id AS manager_id, c.m_jurisdiction AS jurisdiction_id,
                   array_remove(ARRAY[{reasons}]::varchar[], NULL) AS reasons
            FROM c
        ),
        ins AS (
            INSERT INTO {status_table}
                (manager_id, year, status, reasons, jurisdiction_id, closed_on, decided_at,
                 updated_at)
            SELECT manager_id, %s,
                   CASE WHEN cardinality(reasons) = 0 THEN 'normal' ELSE 'abnormal' END,
                   reasons, jurisdiction_id, %s, %s, %s
            FROM r
            ON CONFLICT DO NOTHING
            RETURNING manager_id, status, reasons
        )
        INSERT INTO {credit_table}
            (manager_id, year, status, previous_status, reasons, cause, created_at)
        SELECT manager_id, %s, status, '', reasons, %s, %s FROM ins
        RETURNING {q("status")}
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                *params,
                scope.year,
                scope.last_day,
                now,
                now,
                scope.year,
                CreditEntry.Cause.WINDOW_CLOSED.value,
                now,
            ],
        )
        for (status,) in cursor.fetchall():
            result.decided[status] += 1


def _notify_abnormal(*, year: int, now: dt.datetime, result: CloseResult) -> None:
    """The managers found abnormal in this run (decided at `now`), and one notice per reviewer
    of each firm that employs any of them."""
    decided = RegistryStatus.objects.filter(
        year=year, status=RegistryStatus.Status.ABNORMAL, decided_at=now
    ).order_by()
    link = reverse("registry:credit_record")
    ids = _insert_notices(
        _notice_rows(
            decided,
            recipient="manager__user_id",
            kind=Kind.STATUS_ABNORMAL,
            params=JSONObject(year=Value(year), reasons=F("reasons")),
            link=link,
            year=year,
            milestone="close",
            now=now,
        )
    )
    result.notices[Kind.STATUS_ABNORMAL] += len(ids)
    result.to_send += ids
    # One join grouped by reviewer: the statuses were inserted in this transaction, so the
    # planner has no statistics for them (a correlated subquery per reviewer took minutes).
    reviewers = (
        FirmMembership.objects.filter(
            user__is_active=True,
            firm__employments__status=Employment.Status.ACTIVE,
            firm__employments__manager__registry_statuses__year=year,
            firm__employments__manager__registry_statuses__status=RegistryStatus.Status.ABNORMAL,
            firm__employments__manager__registry_statuses__decided_at=now,
        )
        .annotate(abnormal=Count("firm__employments__manager__registry_statuses"))
        .order_by()
    )
    ids = _insert_notices(
        _notice_rows(
            reviewers,
            recipient="user_id",
            kind=Kind.FIRM_ABNORMAL,
            params=JSONObject(year=Value(year), count=F("abnormal")),
            link=reverse("overview:firm_managers") + "?status=abnormal",
            year=year,
            # Per run: a later run (of the same day) tells only of the managers it decided.
            milestone=f"close-{now:%Y%m%d%H%M%S%f}",
            now=now,
        )
    )
    result.notices[Kind.FIRM_ABNORMAL] += len(ids)
    result.to_send += ids
