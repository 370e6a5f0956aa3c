"""Reads of the credit file, scoped to the reader (`accounts.access.scoped`), and the helpers
other apps' pages use to show grades and key-supervision entries for many managers at once
(one query for a whole page: correlated subqueries, never a query per row)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.access import employed_by, in_jurisdiction, own_manager, scoped
from accounts.models import ManagerProfile, User
from accounts.roles import Role, roles_of

from .models import CreditScore, Grade, Objection, RepairRequest, ScoreLine, SupervisionEntry

# --- the key-supervision list ----------------------------------------------------------------


def supervision_active_q(on: dt.date | None = None, *, prefix: str = "") -> Q:
    """The condition "an entry on the list on day `on`" (default today), on `SupervisionEntry`
    or, with `prefix` ("supervision_entries__"), through a relation: not taken off, and `on`
    within its period."""
    on = on or timezone.localdate()
    return Q(
        **{
            f"{prefix}ended_at__isnull": True,
            f"{prefix}starts_on__lte": on,
            f"{prefix}ends_on__gte": on,
        }
    )


def supervision_entries_active(
    entries: QuerySet[SupervisionEntry] | None = None, *, on: dt.date | None = None
) -> QuerySet[SupervisionEntry]:
    """The entries on the list on `on` (default today), of `entries` (default all), with their
    manager and jurisdiction joined. Unscoped: scope it (`supervision_list_for`) or keep to
    the public fields (manager's name and registration number, `public_reason`, the period)."""
    qs = SupervisionEntry.objects.all() if entries is None else entries
    return qs.filter(supervision_active_q(on)).select_related("manager", "jurisdiction")


def supervision_list_for(*, user: User) -> QuerySet[SupervisionEntry]:
    """Entries (current and past) a user may see: a manager his own; a firm's reviewers those
    of the managers it employs now; bureau staff those of their jurisdiction and below."""
    return scoped(
        SupervisionEntry.objects.select_related("manager", "jurisdiction", "listed_by", "ended_by"),
        user=user,
        manager=own_manager(),
        firm=lambda roles: employed_by(roles.firm, via="manager"),
        bureau=in_jurisdiction("jurisdiction", "manager__jurisdiction"),
    )


# --- scores and grades -----------------------------------------------------------------------


def with_credit(managers: QuerySet[ManagerProfile], *, on: dt.date | None = None):
    """Managers annotated for a list page, in the same single query: `credit_score`,
    `credit_grade` and `credit_year` (the current score, None before any year is decided) and
    `on_supervision` (on the key-supervision list on `on`, default today)."""
    current = CreditScore.objects.filter(manager=OuterRef("pk"), latest=True)
    return managers.annotate(
        credit_score=Subquery(current.values("score")[:1]),
        credit_grade=Subquery(current.values("grade")[:1]),
        credit_year=Subquery(current.values("year")[:1]),
        on_supervision=Exists(
            SupervisionEntry.objects.filter(supervision_active_q(on), manager=OuterRef("pk"))
        ),
    )


def grade_for(*, manager: ManagerProfile | int) -> CreditScore | None:
    """The manager's current score (its `grade`, `score`, `year`), or None: one query."""
    manager_id = manager if isinstance(manager, int) else manager.pk
    return CreditScore.objects.filter(manager_id=manager_id, latest=True).first()


def grade_counts(scores: QuerySet[CreditScore]) -> dict[str, int]:
    """How many of `scores` are at each grade ({"AAA": n, …, "C": n}, every grade present):
    one query. E.g. `grade_counts(CreditScore.objects.filter(latest=True,
    jurisdiction__path__startswith=path))` or `.filter(year=2026, …)`."""
    counts = dict(scores.order_by().values_list("grade").annotate(n=Count("pk")))
    return {grade: counts.get(grade, 0) for grade in Grade.values}


@dataclass
class CreditSummary:
    """A manager's credit file as one reader may see it: the scores by year (newest first),
    each with `explained` (its lines), the current entries on the key-supervision list, and
    all entries (history)."""

    scores: list[CreditScore]
    active_entries: list[SupervisionEntry]
    entries: list[SupervisionEntry] = field(default_factory=list)

    @property
    def current(self) -> CreditScore | None:
        for score in self.scores:
            if score.latest:
                return score
        return self.scores[0] if self.scores else None


def credit_summary_for(
    *, manager: ManagerProfile, on: dt.date | None = None, lines: bool = True
) -> CreditSummary:
    """Three queries (two without `lines`): the scores, their lines with their records, the
    entries. The caller has checked that the reader may see this manager."""
    on = on or timezone.localdate()
    scores = list(CreditScore.objects.filter(manager=manager).order_by("-year"))
    if lines and scores:
        by_score: dict[int, list[ScoreLine]] = {s.pk: [] for s in scores}
        for line in ScoreLine.objects.filter(score__in=scores).select_related(
            "conduct_record", "study_record__course"
        ):
            by_score[line.score_id].append(line)
        for score in scores:
            score.explained = sorted(by_score[score.pk], key=lambda ln: (-ln.points, ln.pk))
    entries = list(
        SupervisionEntry.objects.filter(manager=manager).select_related("listed_by", "ended_by")
    )
    active = [e for e in entries if e.ended_at is None and e.starts_on <= on <= e.ends_on]
    return CreditSummary(scores=scores, active_entries=active, entries=entries)


def credit_score_list_for(*, user: User) -> QuerySet[CreditScore]:
    """Scores a user may see: a manager his own; a firm's reviewers those of the managers it
    employs now; bureau staff those of their jurisdiction and below."""
    return scoped(
        CreditScore.objects.select_related("manager", "jurisdiction"),
        user=user,
        manager=own_manager(),
        firm=lambda roles: employed_by(roles.firm, via="manager"),
        bureau=in_jurisdiction("jurisdiction", "manager__jurisdiction"),
    )


# --- objections and repair -------------------------------------------------------------------


def objection_list_for(*, user: User) -> QuerySet[Objection]:
    """A manager his own objections; bureau staff those of their jurisdiction and below."""
    return scoped(
        Objection.objects.select_related("manager", "decided_by", "jurisdiction"),
        user=user,
        manager=own_manager(),
        bureau=in_jurisdiction("jurisdiction"),
    )


def objection_get_for(*, user: User, pk: int) -> Objection:
    return get_object_or_404(objection_list_for(user=user), pk=pk)


def repair_list_for(*, user: User) -> QuerySet[RepairRequest]:
    """A manager his own repair requests; bureau staff those of their jurisdiction and below."""
    return scoped(
        RepairRequest.objects.select_related("manager", "conduct_record", "decided_by"),
        user=user,
        manager=own_manager(),
        bureau=in_jurisdiction("jurisdiction"),
    )


def repair_get_for(*, user: User, pk: int) -> RepairRequest:
    return get_object_or_404(repair_list_for(user=user), pk=pk)


def can_decide(*, user: User) -> bool:
    """Bureau staff (and administrators) decide objections and repairs within their scope."""
    return user.is_superuser or roles_of(user).role == Role.BUREAU
