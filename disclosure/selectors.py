"""What the public disclosure (公示) shows, per jurisdiction and year: the abnormal managers,
the key-supervision list and the grade distribution. Public facts only:

- an abnormal status shows with the reasons from public facts (`with_disclosed_reasons`, the
  one rule: a conduct record that is not public is never shown), and a status abnormal only
  because of such a record (`ask_bureau`) is not listed at all;
- a key-supervision entry shows its `public_reason` and period, never the internal reason;
- only registered (or cancelled) managers, with name, registration number and current firm;
  never an ID number, a phone, or a score's explanation.

An abnormal status stays on the list for `ABNORMAL_SHOWN_FOR` from its decision and leaves when
corrected (it is then normal, or its reasons change with it); a key-supervision entry leaves
when its period ends or it is taken off. Every list is one query per page plus its count."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import (
    DateTimeField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.utils import timezone

from accounts.models import Employment, Jurisdiction
from credit.models import CreditScore, SupervisionEntry
from credit.selectors import grade_counts, supervision_entries_active
from registry.models import RegistryStatus
from registry.selectors import PUBLIC_REGISTRATION, with_disclosed_reasons

#: How long an abnormal year stays on the public list after it was decided (公示期).
ABNORMAL_SHOWN_FOR = dt.timedelta(days=365)


def _current_firm_name(manager_ref: str):
    return Subquery(
        Employment.objects.filter(
            manager=OuterRef(manager_ref), status=Employment.Status.ACTIVE
        ).values("firm__name")[:1]
    )


def _search(qs: QuerySet, search: str) -> QuerySet:
    """By the manager's name or the current firm's name (never by ID number: the form refuses
    one before it gets here)."""
    search = (search or "").strip()
    if not search:
        return qs
    return qs.filter(Q(manager__real_name__icontains=search) | Q(firm_name__icontains=search))


def disclosure_years() -> list[int]:
    """The years with a decided status anywhere, newest first (one query)."""
    return list(RegistryStatus.objects.order_by("-year").values_list("year", flat=True).distinct())


def public_jurisdictions() -> QuerySet[Jurisdiction]:
    return Jurisdiction.objects.order_by("path")


def abnormal_list(
    *, jurisdiction: Jurisdiction, year: int, search: str = "", today: dt.date | None = None
) -> QuerySet[RegistryStatus]:
    """The year's abnormal managers of `jurisdiction` and below, as the public may see them:
    `public_reasons` (codes), `firm_name`, `shown_until`; ordered by name."""
    now = (
        timezone.now()
        if today is None
        else timezone.make_aware(dt.datetime.combine(today, dt.time.max))
    )
    statuses = with_disclosed_reasons(
        RegistryStatus.objects.filter(
            year=year,
            status=RegistryStatus.Status.ABNORMAL,
            jurisdiction__path__startswith=jurisdiction.path,
            manager__registration_status__in=PUBLIC_REGISTRATION,
            decided_at__gt=now - ABNORMAL_SHOWN_FOR,
        )
    )
    statuses = (
        statuses.filter(ask_bureau=False)
        .select_related("manager")
        .only(
            "year",
            "status",
            "reasons",
            "closed_on",
            "decided_at",
            "manager__real_name",
            "manager__registration_number",
        )
        .annotate(
            firm_name=_current_firm_name("manager"),
            shown_until=ExpressionWrapper(
                F("decided_at") + Value(ABNORMAL_SHOWN_FOR), output_field=DateTimeField()
            ),
        )
        .order_by("manager__real_name", "pk")
    )
    return _search(statuses, search)


def supervision_list(
    *, jurisdiction: Jurisdiction, year: int, search: str = "", today: dt.date | None = None
) -> QuerySet[SupervisionEntry]:
    """The key-supervision entries of `jurisdiction` and below on the list today whose period
    falls in `year` (at least partly): name, registration number, firm, public reason, period.
    Taken off, or the period over: gone."""
    today = today or timezone.localdate()
    entries = supervision_entries_active(
        SupervisionEntry.objects.filter(
            jurisdiction__path__startswith=jurisdiction.path,
            starts_on__year__lte=year,
            ends_on__year__gte=year,
            manager__registration_status__in=PUBLIC_REGISTRATION,
        ),
        on=today,
    )
    entries = (
        entries.only(
            "cause",
            "public_reason",
            "starts_on",
            "ends_on",
            "manager__real_name",
            "manager__registration_number",
            "jurisdiction__name",
        )
        .annotate(firm_name=_current_firm_name("manager"))
        .order_by("manager__real_name", "pk")
    )
    return _search(entries, search)


@dataclass(frozen=True)
class GradeShare:
    grade: str
    count: int
    percent: float


def grade_distribution(*, jurisdiction: Jurisdiction, year: int) -> list[GradeShare]:
    """How many managers of `jurisdiction` and below are at each grade for `year`, with the
    share (one query). Counts only: nothing about anyone."""
    counts = grade_counts(
        CreditScore.objects.filter(
            year=year,
            jurisdiction__path__startswith=jurisdiction.path,
            manager__registration_status__in=PUBLIC_REGISTRATION,
        )
    )
    total = sum(counts.values())
    return [
        GradeShare(grade, n, round(100 * n / total, 1) if total else 0.0)
        for grade, n in counts.items()
    ]
