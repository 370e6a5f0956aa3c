"""The automatic rules of the key-supervision list (重点监管名单, seed 003: "连续两次考核不合格的,
列入重点监管名单"), run in bulk after the scores, and the notices of every new entry.

* a second failed course assessment (verified) within `assessment_window_days` (730) of the
  previous one: trigger ``assessment-<study record id>``;
* two abnormal years in a row (the statuses as they stand now, after corrections): trigger
  ``abnormal-<later year>``.

A trigger lists a manager once (unique per manager and trigger), from the day the rule found
it for `supervision_days` (365), and only while that period could still run: a trigger older
than one listing period (a failure completed, a year closed longer ago) lists no one. The
manager, the reviewers of the firm employing him and the bureau staff of his jurisdiction and
above are told, one notice each per run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import CharField, Count, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat, ExtractYear, JSONObject
from django.urls import reverse

from accounts.models import BureauMembership, Employment, FirmMembership, ManagerProfile
from notifications.models import Notice
from notifications.services import notice_rows, notices_insert_from
from registry.models import RegistryStatus
from training.models import StudyRecord

from .models import SupervisionEntry

Cause = SupervisionEntry.Cause


@dataclass
class ListingResult:
    listed: int = 0
    ended: int = 0
    notices: list[int] = field(default_factory=list)


def listing_run(
    *, today: dt.date, now: dt.datetime, manager_ids: list[int] | None = None
) -> ListingResult:
    """Apply both rules (to `manager_ids`, or everyone) inside the caller's transaction, which
    holds the credit lock and the ``credit_pol`` table (see `scoring.scores_recompute`)."""
    entries = SupervisionEntry._meta.db_table
    status = RegistryStatus._meta.db_table
    study = StudyRecord._meta.db_table
    profile = ManagerProfile._meta.db_table
    only = "AND {col} = ANY(%(ids)s)" if manager_ids is not None else ""
    params = {
        "today": today,
        "now": now,
        "ids": list(manager_ids or []),
        "abnormal": RegistryStatus.Status.ABNORMAL.value,
        "failed": StudyRecord.Assessment.FAILED.value,
        "verified": StudyRecord.Status.VERIFIED.value,
        "c_abnormal": Cause.ABNORMAL_TWICE.value,
        "c_assessment": Cause.ASSESSMENT_TWICE.value,
    }
    columns = (
        "manager_id, cause, trigger, reason, public_reason, starts_on, ends_on, jurisdiction_id, "
        "listed_at, end_cause, end_reason"
    )
    conflict = "ON CONFLICT (manager_id, trigger) WHERE trigger <> '' DO NOTHING"
    result = ListingResult()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {entries} ({columns})
            SELECT s1.manager_id, %(c_abnormal)s, 'abnormal-' || s1.year, '', '',
                   %(today)s, %(today)s + (p.supervision_days - 1), m.jurisdiction_id,
                   %(now)s, '', ''
            FROM {status} s1
            JOIN {status} s0 ON s0.manager_id = s1.manager_id AND s0.year = s1.year - 1
            JOIN {profile} m ON m.id = s1.manager_id
            JOIN credit_pol p ON p.pol_jurisdiction_id = m.jurisdiction_id
            WHERE s1.status = %(abnormal)s AND s0.status = %(abnormal)s
              AND s1.closed_on + (p.supervision_days - 1) >= %(today)s
              {only.format(col="s1.manager_id")}
            {conflict}
            """,
            params,
        )
        result.listed += cursor.rowcount
        cursor.execute(
            f"""
            INSERT INTO {entries} ({columns})
            SELECT f.manager_id, %(c_assessment)s, 'assessment-' || f.id, '', '',
                   %(today)s, %(today)s + (p.supervision_days - 1), m.jurisdiction_id,
                   %(now)s, '', ''
            FROM (
                SELECT r.id, r.manager_id, r.completed_on,
                       lag(r.completed_on) OVER (PARTITION BY r.manager_id
                                                 ORDER BY r.completed_on, r.id) AS previous
                FROM {study} r
                WHERE r.assessment = %(failed)s AND r.status = %(verified)s
                  {only.format(col="r.manager_id")}
            ) f
            JOIN {profile} m ON m.id = f.manager_id
            JOIN credit_pol p ON p.pol_jurisdiction_id = m.jurisdiction_id
            WHERE f.previous IS NOT NULL
              AND f.completed_on - f.previous <= p.assessment_window_days
              AND f.completed_on + (p.supervision_days - 1) >= %(today)s
            {conflict}
            """,
            params,
        )
        result.listed += cursor.rowcount
        # An automatic entry whose trigger no longer holds (a year decided normal again, a
        # failed assessment rejected) leaves the list that day.
        cursor.execute(
            f"""
            UPDATE {entries} e SET ended_at = %(now)s, end_cause = %(gone)s,
                   end_reason = ''
            WHERE e.ended_at IS NULL AND e.ends_on >= %(today)s
              {only.format(col="e.manager_id")}
              AND (
                (e.cause = %(c_abnormal)s AND NOT (
                    EXISTS (SELECT 1 FROM {status} s1 WHERE s1.manager_id = e.manager_id
                            AND 'abnormal-' || s1.year = e.trigger AND s1.status = %(abnormal)s)
                    AND EXISTS (SELECT 1 FROM {status} s0 WHERE s0.manager_id = e.manager_id
                            AND 'abnormal-' || (s0.year + 1) = e.trigger
                            AND s0.status = %(abnormal)s)))
                OR (e.cause = %(c_assessment)s AND NOT EXISTS (
                    SELECT 1 FROM {study} r WHERE r.manager_id = e.manager_id
                    AND 'assessment-' || r.id = e.trigger
                    AND r.assessment = %(failed)s AND r.status = %(verified)s))
              )
            """,
            {**params, "gone": SupervisionEntry.EndCause.RULE_GONE.value},
        )
        result.ended = cursor.rowcount
    result.notices = _assessments_notify(now=now, manager_ids=manager_ids)
    if result.listed:
        result.notices += supervision_notify(listed_at=now)
    if result.ended:
        result.notices += supervision_end_notify(ended_at=now)
        result.notices += notices_insert_from(
            notice_rows(
                SupervisionEntry.objects.filter(
                    ended_at=now, end_cause=SupervisionEntry.EndCause.RULE_GONE
                ).order_by(),
                recipient="manager__user_id",
                kind=Notice.Kind.SUPERVISION_ENDED,
                params=JSONObject(cause=F("cause"), end_cause=F("end_cause")),
                link=reverse("credit:my_credit"),
                year=now.year,
                milestone=f"sv-end-{now:%Y%m%d%H%M%S%f}",
                now=now,
            )
        )
    return result


#: A failed assessment verified (or reported) this long before a run is still told of.
ASSESSMENT_NOTICE_WINDOW = dt.timedelta(days=7)


def _assessments_notify(*, now: dt.datetime, manager_ids: list[int] | None) -> list[int]:
    """Tell each manager once of a failed assessment written to his credit file (one notice
    per study record: its key is the record), for those verified in the last week."""
    since = now - ASSESSMENT_NOTICE_WINDOW
    failed = StudyRecord.objects.filter(
        Q(verified_at__gte=since) | Q(verified_at__isnull=True, created_at__gte=since),
        assessment=StudyRecord.Assessment.FAILED,
        status=StudyRecord.Status.VERIFIED,
    ).order_by()
    if manager_ids is not None:
        failed = failed.filter(manager_id__in=manager_ids)
    return notices_insert_from(
        notice_rows(
            failed.annotate(title=Coalesce(F("course__title"), F("external_title"))),
            recipient="manager__user_id",
            kind=Notice.Kind.ASSESSMENT_FAILED,
            params=JSONObject(course=F("title"), date=F("completed_on")),
            link=reverse("credit:my_credit"),
            year=ExtractYear("completed_on"),
            milestone=Concat(Value("af-"), Cast("pk", CharField())),
            now=now,
        )
    )


def supervision_notify(*, listed_at: dt.datetime, actor_id: int | None = None) -> list[int]:
    """Notices of the entries listed at `listed_at` (one run, or one official's listing): to
    each manager, to the reviewers of the firms employing them (a count), to the bureau staff
    of their jurisdiction and above (a count). Returns the new notices' ids."""
    new = SupervisionEntry.objects.filter(listed_at=listed_at).order_by()
    stamp = f"sv-{listed_at:%Y%m%d%H%M%S%f}"
    link = reverse("credit:my_credit")
    year = listed_at.year
    ids = notices_insert_from(
        notice_rows(
            new,
            recipient="manager__user_id",
            kind=Notice.Kind.SUPERVISION_LISTED,
            params=JSONObject(
                cause=F("cause"), until=F("ends_on"), public_reason=F("public_reason")
            ),
            link=link,
            year=year,
            milestone=stamp,
            now=listed_at,
        )
    )
    ids += _tell_firm_reviewers(
        kind=Notice.Kind.FIRM_SUPERVISION, now=listed_at, milestone=stamp, listed_at=listed_at
    )
    in_reach = (
        SupervisionEntry.objects.filter(
            listed_at=listed_at,
            jurisdiction__path__startswith=OuterRef("jurisdiction__path"),
        )
        .order_by()
        .values("listed_at")
        .annotate(n=Count("pk"))
        .values("n")
    )
    bureau = (
        BureauMembership.objects.filter(user__is_active=True)
        .exclude(user_id=actor_id)
        .annotate(count=Coalesce(Subquery(in_reach[:1]), Value(0)))
        .filter(~Q(count=0))
        .order_by()
    )
    ids += notices_insert_from(
        notice_rows(
            bureau,
            recipient="user_id",
            kind=Notice.Kind.BUREAU_SUPERVISION,
            params=JSONObject(count=F("count")),
            link=reverse("credit:bureau_supervision"),
            year=year,
            milestone=stamp,
            now=listed_at,
        )
    )
    return ids


def supervision_end_notify(*, ended_at: dt.datetime) -> list[int]:
    """Notices to the reviewers of the firms employing the managers whose entries ended at
    `ended_at` (one run, or one official's decision): how many of theirs are off the list. The
    managers themselves are told by the caller. Returns the new notices' ids."""
    return _tell_firm_reviewers(
        kind=Notice.Kind.FIRM_SUPERVISION_ENDED,
        now=ended_at,
        milestone=f"sv-end-{ended_at:%Y%m%d%H%M%S%f}",
        ended_at=ended_at,
    )


def _tell_firm_reviewers(*, kind: str, now: dt.datetime, milestone: str, **entries) -> list[int]:
    """One notice to each reviewer of every firm employing managers whose list entries match
    `entries` (listed_at=..., ended_at=...), counting them."""
    reviewers = (
        FirmMembership.objects.filter(
            user__is_active=True,
            firm__employments__status=Employment.Status.ACTIVE,
            **{
                f"firm__employments__manager__supervision_entries__{name}": value
                for name, value in entries.items()
            },
        )
        .annotate(count=Count("firm__employments__manager__supervision_entries"))
        .order_by()
    )
    return notices_insert_from(
        notice_rows(
            reviewers,
            recipient="user_id",
            kind=kind,
            params=JSONObject(count=F("count")),
            link=reverse("overview:firm_managers"),
            year=now.year,
            milestone=milestone,
            now=now,
        )
    )
