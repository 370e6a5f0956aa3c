"""The year's registry status (执业状态) in one place: the rule (`status_candidates`), the closing
of the windows in bulk (`windows_close`) and the decision again for one manager after something
changed (`registry_status_refresh`). Both paths use the same computation, so they cannot
disagree.

The closing is safe to run twice, at the same time, or again after a crash: a status is inserted
once per (manager, year) (``INSERT … SELECT … ON CONFLICT DO NOTHING``), with its credit-record
entry in the same statement, and the notices of the managers it decided are keyed by the close.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import JSONObject
from django.urls import reverse
from django.utils import timezone

from accounts.models import Employment, FirmMembership, ManagerProfile, User
from notifications.models import Notice
from notifications.services import (
    NewNotice,
    emails_queue,
    notice_rows,
    notices_create,
    notices_insert_from,
)
from training.models import HoursRule
from training.selectors import hours_rule_for, with_compliance

from .hooks import manager_changed
from .models import (
    AnnualFiling,
    ConductRecord,
    CreditEntry,
    RegistryStatus,
    StatusReason,
)
from .scopes import Scope, filing_of_year, job_lock, scopes_for
from .selectors import in_force_between

Kind = Notice.Kind
Status = AnnualFiling.Status


def status_candidates(
    managers: QuerySet[ManagerProfile], *, year: int, last_day: dt.date, rule: HoursRule | None
) -> QuerySet[ManagerProfile]:
    """Managers annotated with the reasons they would be abnormal for the year, as booleans:
    not_filed, not_approved, hours_short, bad_conduct. The one computation of the status, for
    the closing (in bulk) and for a change after it (one manager)."""
    filing_status = Subquery(filing_of_year(year).values("status")[:1])
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
        revoked=_flag(Q(filing_status=Status.REVOKED)),
    )


#: A filing in the reviewers' hands: its manager did his part.
UNDER_REVIEW = (Status.AWAITING_FIRM, Status.AWAITING_BUREAU)


def under_review(year: int, *, submitted_before: dt.datetime) -> QuerySet[AnnualFiling]:
    """For a subquery on managers: the manager's filing of `year`, submitted in time and still
    under review. The reviewers' delay is not the manager's fault: the closing gives him no
    status (and writes nothing to his credit record) until they decide: an approval decides the
    year (`registry_status_decide`), a return gives him a grace period (an extension) after
    which the closing judges him like anyone."""
    return filing_of_year(year).filter(status__in=UNDER_REVIEW, submitted_at__lt=submitted_before)


def _flag(condition: Q) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


REASON_FLAGS = [
    (StatusReason.NOT_FILED, "not_filed"),
    (StatusReason.NOT_APPROVED, "not_approved"),
    (StatusReason.HOURS_SHORT, "hours_short"),
    (StatusReason.BAD_CONDUCT, "bad_conduct"),
    (StatusReason.REVOKED, "revoked"),
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
        job_lock()
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
            emails_queue(result.to_send)
    return result


def _close_scope(scope: Scope, *, now: dt.datetime, result: CloseResult) -> None:
    end_of_last_day = timezone.make_aware(
        dt.datetime.combine(scope.last_day + dt.timedelta(days=1), dt.time.min)
    )
    managers = scope.managers().filter(registered_at__lt=end_of_last_day)
    managers = managers.exclude(
        Exists(RegistryStatus.objects.filter(manager=OuterRef("pk"), year=scope.year))
    ).exclude(Exists(under_review(scope.year, submitted_before=end_of_last_day)))
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
    ids = notices_insert_from(
        notice_rows(
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
    ids = notices_insert_from(
        notice_rows(
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


def _firm_status_notices(
    manager: ManagerProfile, status: RegistryStatus, entry: CreditEntry
) -> list[NewNotice]:
    """The reviewers of the manager's current firm, of a status that changed (the status only:
    the reasons may come from a record that is not public)."""
    firm_id = (
        Employment.objects.filter(manager_id=manager.pk, status=Employment.Status.ACTIVE)
        .values_list("firm_id", flat=True)
        .first()
    )
    if firm_id is None:
        return []
    link = reverse("overview:manager_detail", args=[manager.pk])
    return [
        NewNotice(
            recipient_id=user_id,
            kind=Notice.Kind.FIRM_STATUS_CHANGED,
            params={"year": status.year, "name": manager.real_name, "status": status.status},
            link=link,
            year=status.year,
            milestone=f"entry-{entry.pk}",
        )
        for user_id in FirmMembership.objects.filter(
            firm_id=firm_id, user__is_active=True
        ).values_list("user_id", flat=True)
    ]


def registry_status_refresh(
    *, manager: ManagerProfile, year: int, cause: str, actor: User | None = None
) -> RegistryStatus | None:
    """Decide again a status given when the window closed, after something changed it (a late
    approval, a conduct record). A change of the reasons is written to the credit record; a
    change of the status is also told to the manager. Before the close: nothing (None)."""
    with transaction.atomic():
        current = (
            RegistryStatus.objects.select_for_update()
            .select_related("jurisdiction")
            .filter(manager_id=manager.pk, year=year)
            .first()
        )
        if current is None:
            return None
        manager_changed(manager.pk)
        flags = [flag for _, flag in REASON_FLAGS]
        row = (
            status_candidates(
                ManagerProfile.objects.filter(pk=manager.pk),
                year=year,
                last_day=current.closed_on,
                rule=hours_rule_for(jurisdiction=current.jurisdiction, year=year),
            )
            .values(*flags)
            .get()
        )
        reasons = [
            reason.value
            for reason, flag in REASON_FLAGS
            if row[flag] and reason.value not in current.removed_reasons
        ]
        if reasons == current.reasons:
            return current
        previous = current.status
        now = timezone.now()
        current.reasons = reasons
        current.status = RegistryStatus.Status.ABNORMAL if reasons else RegistryStatus.Status.NORMAL
        current.updated_at = now
        current.save(update_fields=["reasons", "status", "updated_at"])
        entry = CreditEntry.objects.create(
            manager_id=manager.pk,
            year=year,
            status=current.status,
            previous_status=previous,
            reasons=reasons,
            cause=cause,
            actor=actor,
            created_at=now,
        )
        if current.status != previous:
            notices_create(
                [
                    NewNotice(
                        recipient_id=manager.user_id,
                        kind=Notice.Kind.STATUS_ABNORMAL
                        if current.is_abnormal
                        else Notice.Kind.STATUS_NORMAL,
                        params={"year": year, "reasons": reasons},
                        link=reverse("registry:credit_record"),
                        year=year,
                        milestone=f"entry-{entry.pk}",
                    ),
                    *_firm_status_notices(manager, current, entry),
                ]
            )
    return current


def registry_status_decide(
    *, manager: ManagerProfile, year: int, last_day: dt.date, cause: str, actor: User | None
) -> RegistryStatus | None:
    """Decide the year of one manager whose deadline (`last_day`) has passed without a status:
    his filing was under review then and has now been decided. The same rule as the closing
    (`status_candidates`), the same credit-record entry and notice. None if he has a status
    already (e.g. the closing ran meanwhile) or was registered after the deadline."""
    end_of_last_day = timezone.make_aware(
        dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min)
    )
    if manager.jurisdiction_id is None or not manager.completed_at:
        return None
    if manager.completed_at >= end_of_last_day:
        return None
    flags = [flag for _, flag in REASON_FLAGS]
    row = (
        status_candidates(
            ManagerProfile.objects.filter(pk=manager.pk),
            year=year,
            last_day=last_day,
            rule=hours_rule_for(jurisdiction=manager.jurisdiction, year=year),
        )
        .values(*flags)
        .get()
    )
    reasons = [reason.value for reason, flag in REASON_FLAGS if row[flag]]
    status = RegistryStatus.Status.ABNORMAL if reasons else RegistryStatus.Status.NORMAL
    now = timezone.now()
    with transaction.atomic():
        current, created = RegistryStatus.objects.get_or_create(
            manager_id=manager.pk,
            year=year,
            defaults={
                "status": status,
                "reasons": reasons,
                "jurisdiction_id": manager.jurisdiction_id,
                "closed_on": last_day,
                "decided_at": now,
                "updated_at": now,
            },
        )
        if not created:
            return None
        entry = CreditEntry.objects.create(
            manager_id=manager.pk,
            year=year,
            status=status,
            previous_status="",
            reasons=reasons,
            cause=cause,
            actor=actor,
            created_at=now,
        )
        if current.is_abnormal:
            notices_create(
                [
                    NewNotice(
                        recipient_id=manager.user_id,
                        kind=Notice.Kind.STATUS_ABNORMAL,
                        params={"year": year, "reasons": reasons},
                        link=reverse("registry:credit_record"),
                        year=year,
                        milestone=f"entry-{entry.pk}",
                    )
                ]
            )
    return current


def registry_status_refresh_many(
    pairs: list[tuple[ManagerProfile, int]], *, cause: str, actor: User | None = None
) -> int:
    """`registry_status_refresh` for each (manager, year) whose status was already given (one
    query finds them; the others have nothing to decide again). Returns how many it decided."""
    given = set(
        RegistryStatus.objects.filter(
            manager_id__in={manager.pk for manager, _year in pairs},
            year__in={year for _manager, year in pairs},
        ).values_list("manager_id", "year")
    )
    done = 0
    for manager, year in pairs:
        if (manager.pk, year) in given:
            registry_status_refresh(manager=manager, year=year, cause=cause, actor=actor)
            done += 1
    return done
