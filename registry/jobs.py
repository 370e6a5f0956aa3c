"""The daily job of the first-quarter cycle: close the windows whose deadline passed (`status.py`),
then the reminders due that day.

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
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db import transaction
from django.db.models import (
    Count,
    Exists,
    F,
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

from accounts.models import Employment, FirmMembership
from notifications.models import Notice
from notifications.services import (
    emails_queue,
    notice_rows,
    notices_insert_from,
    unsent_ids,
)
from training.selectors import courses_still_open, with_compliance

from .models import (
    AnnualFiling,
    ReviewEvent,
)
from .scopes import SUBMITTED, Scope, filing_of_year, job_lock, scopes_for
from .status import CloseResult, windows_close

Kind = Notice.Kind
Status = AnnualFiling.Status
#: The notices the daily job makes (the rest come from the filing workflow).
JOB_KINDS = (
    Kind.REMIND_NOT_SUBMITTED,
    Kind.REMIND_HOURS_SHORT,
    Kind.REMIND_RETURNED,
    Kind.REMIND_FIRM_DIGEST,
    Kind.REMIND_STUDY_HOURS,
    Kind.STATUS_ABNORMAL,
    Kind.FIRM_ABNORMAL,
)


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
    filings waiting; during the study year, on `REGISTRY_STUDY_REMINDER_DATES`, the managers
    short of the year's hours. The run also queues again the e-mails of earlier runs still
    pending or failed."""
    result = RunResult()
    now = timezone.now()
    with transaction.atomic():
        job_lock()
        for year in (day.year - 1, day.year):
            for scope in scopes_for(year):
                due = scope.due_milestone(day, settings.REGISTRY_REMINDER_DAYS_BEFORE_CLOSE)
                if due is None:
                    continue
                _remind_managers(scope, day=day, milestone=due, now=now, result=result)
        study_due = study_milestone_due(day, settings.REGISTRY_STUDY_REMINDER_DATES)
        if study_due is not None:
            for scope in scopes_for(day.year):
                _remind_study_hours(scope, day=day, milestone=study_due, now=now, result=result)
        _remind_firms(day=day, now=now, result=result)
        result.to_send += unsent_ids(now=now, exclude=result.to_send)
        if queue:
            emails_queue(result.to_send)
    return result


def daily_run(*, day: dt.date, queue: bool = True) -> tuple[CloseResult, RunResult]:
    """The daily job: close the windows whose deadline has passed, then remind."""
    return windows_close(day=day, queue=queue), reminders_run(day=day, queue=queue)


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

    def remind(kind: str, rows: QuerySet, link: str, **params) -> None:
        notices = notice_rows(
            rows,
            recipient="user_id",
            kind=kind,
            params=JSONObject(**common, **params),
            link=link,
            year=year,
            milestone=key,
            now=now,
        )
        result.add(kind, notices_insert_from(notices))

    filing_page = reverse("registry:my_filing") + f"?year={year}"
    managers = scope.managers().annotate(
        filing_status=Subquery(filing_of_year(year).values("status")[:1])
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
        reason=Subquery(filing_of_year(year).values("return_reason")[:1]),
    )
    start_of_due = timezone.make_aware(dt.datetime.combine(due_on, dt.time.min))
    remind(
        Kind.REMIND_RETURNED,
        returned.filter(returned_at__lt=start_of_due),
        filing_page,
        reason=F("reason"),
    )
    if scope.rule is None:
        return
    # Hours short: those who can still add records (not submitted, or returned).
    short = with_compliance(
        scope.managers().filter(~Exists(filing_of_year(year).filter(status__in=SUBMITTED))),
        rule=scope.rule,
        year=year,
    ).filter(hours_needed__gt=0)
    remind(
        Kind.REMIND_HOURS_SHORT,
        short,
        reverse("training:study_hours") + f"?year={year}",
        needed=F("hours_needed"),
    )


#: A study reminder missed (the job did not run that day) is still sent this many days later.
STUDY_REMINDER_CATCH_UP = dt.timedelta(days=7)


def study_milestone_due(day: dt.date, dates: list[str]) -> str | None:
    """The study reminder due on `day`, as its milestone ("study-09-01"): the latest of the
    days ``MM-DD`` of `day`'s year on or before `day`, if it is at most a week old. As with
    the filing reminders only the latest is sent after downtime; a reminder weeks late (a
    manager registered in the autumn, the job down for a month) would only confuse, the next
    date or the filing reminders will tell him."""
    due = []
    for text in dates:
        month, dom = (int(part) for part in text.strip().split("-"))
        on = dt.date(day.year, month, dom)
        if on <= day:
            due.append(on)
    if not due or day - max(due) > STUDY_REMINDER_CATCH_UP:
        return None
    return f"study-{max(due):%m-%d}"


def _remind_study_hours(
    scope: Scope, *, day: dt.date, milestone: str, now, result: RunResult
) -> None:
    """During the study year (`scope.year` is `day`'s year): the managers short of the year's
    hours, with the hours still needed and up to three courses still open to them. Once per
    manager and milestone (the notice's key); nobody once the hours are met."""
    if scope.rule is None:
        return
    year = scope.year
    short = with_compliance(
        scope.managers().filter(~Exists(filing_of_year(year).filter(status__in=SUBMITTED))),
        rule=scope.rule,
        year=year,
    ).filter(hours_needed__gt=0)
    courses = ArraySubquery(courses_still_open(day=day, year=year).values("title")[:3])
    result.add(
        Kind.REMIND_STUDY_HOURS,
        notices_insert_from(
            notice_rows(
                short,
                recipient="user_id",
                kind=Kind.REMIND_STUDY_HOURS,
                params=JSONObject(year=Value(year), needed=F("hours_needed"), courses=courses),
                link=reverse("training:catalogue"),
                year=year,
                milestone=milestone,
                now=now,
            )
        ),
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
            notices_insert_from(
                notice_rows(
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
