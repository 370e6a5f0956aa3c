"""Scopes: the managers who share one window, one deadline and one hours rule.

Both daily jobs (the reminders in `jobs.py`, the closing in `status.py`) work scope by scope, so
the number of statements grows with the number of distinct windows and rules, never with the
number of managers. Windows and rules are inherited down the tree exactly like
`selectors.window_for` and `training.selectors.hours_rule_for` (`core.jurisdictions.nearest`);
a manager with an extension forms a scope of his own with his later last day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import (
    OuterRef,
    QuerySet,
)

from accounts.models import Jurisdiction, ManagerProfile, RegistrationStatus
from core.jurisdictions import nearest
from training.models import HoursRule

from .models import (
    AnnualFiling,
    FilingExtension,
    FilingWindow,
)
from .selectors import default_window

Status = AnnualFiling.Status
#: Filings that are in the hands of the reviewers or done: their manager has submitted.
SUBMITTED = (Status.AWAITING_FIRM, Status.AWAITING_BUREAU, Status.APPROVED, Status.REVOKED)
#: One advisory lock for both jobs: two beats at once run one after the other.
_LOCK_KEY = 0x5245_4749  # "REGI"


def job_lock() -> None:
    """Serialise the runs (two beats at once), and spare the planner's JIT: the statements are
    few and large, and compiling them cost more than it saved."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        cursor.execute("SET LOCAL jit = off")


def filing_of_year(year: int) -> QuerySet[AnnualFiling]:
    """The manager's filing of `year`, for a subquery on managers (`OuterRef("pk")`)."""
    return AnnualFiling.objects.filter(manager=OuterRef("pk"), year=year).order_by()


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
        """The registered (number in force), active managers of the scope."""
        qs = ManagerProfile.objects.filter(
            registration_status=RegistrationStatus.REGISTERED, user__is_active=True
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
