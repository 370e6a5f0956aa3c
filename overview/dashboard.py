"""The bureau's dashboard: the year's figures of a jurisdiction (filing progress by stage, day by
day, by area and by firm; compliance; abnormal statuses; training; certificates).

Two halves:

* `dashboard_refresh(year=...)` computes the figures of one year for every jurisdiction at once,
  in a few set-based statements, into `AreaFigures` and `FilingDay` (models.py). The Celery beat
  runs it every night for this year and the last (`overview.dashboard_refresh`), and
  `manage.py dashboard_refresh` runs it by hand. At 100,000 managers it takes seconds; the page
  then sums stored rows and answers in milliseconds whatever the jurisdiction's size.
* `dashboard_for(user=..., year=..., area=...)` reads them for the official's jurisdiction (or an
  area under it) in a fixed number of queries.

What each figure means (the page says the same under its cards):

* **managers**: managers whose jurisdiction (their firm's) is in the area, with or without a
  current firm;
* **filing stages**: the year's filings by status, grouped by the filing's county and firm (as
  the admin's filing list filters them); "not submitted" is managers without a filing under
  review or decided (no filing, or a draft);
* **compliance rate**: managers whose verified, passed study hours of the year meet the hours
  rule in force for them (`training.selectors.with_compliance`, the one computation) / managers;
* **abnormal rate**: abnormal registry statuses of the year / statuses decided for the year
  (decided when the window closes: none before);
* **training participation (人次)**: study records of the year that count (verified, assessment
  passed), one per manager and course; **trained managers**: managers with at least one;
  **firms whose managers trained**: firms with current managers all of whom trained;
* **certificate-holding rate**: managers whose profile records a vocational skill level or
  practice certificate (`skill_level` other than "none": 物业管理员 一级 to 五级 or the
  certified property-management professional) / managers.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import IntegerField, Sum
from django.utils import timezone

from accounts.models import Employment, Firm, Jurisdiction, ManagerProfile, SkillLevel, User
from accounts.roles import Role, roles_of
from accounts.selectors import jurisdiction_list_for
from core.jurisdictions import nearest
from registry.models import AnnualFiling, RegistryStatus
from registry.selectors import window_for
from training.models import HoursRule, StudyRecord
from training.selectors import with_compliance

from .models import AreaFigures, DashboardRefresh, FilingDay

#: The stages of a filing, in the order of the workflow (the dashboard's colours follow it).
STAGES = ("draft", "awaiting_firm", "awaiting_bureau", "returned", "approved")
#: The figures summed per area and per firm.
FIGURES = (
    "managers",
    "certified",
    "compliant",
    "trained",
    "participations",
    *STAGES,
    "decided",
    "abnormal",
)
#: The advisory lock of a year's refresh (with the year as the second key).
_LOCK_KEY = 160_404
#: Each path level is a six-digit code and a slash.
_LEVEL = 7

S = AnnualFiling.Status
# A revoked filing (撤销, final) leaves the stages: it is counted in none of them.
assert set(STAGES) == set(S.values) - {S.REVOKED}


# --- the refresh -----------------------------------------------------------------------------


def _compliant_sql(year: int) -> tuple[str, list]:
    """`p.id IN (...)` for the managers compliant in `year`, each under the rule in force for
    his jurisdiction: one subquery per rule, built by `with_compliance` (the one computation)."""
    rules = {
        r.jurisdiction.code: r
        for r in HoursRule.objects.filter(year=year).select_related("jurisdiction")
    }
    by_rule: dict[int, list[int]] = defaultdict(list)
    rule_of: dict[int, HoursRule] = {}
    for pk, path in Jurisdiction.objects.values_list("pk", "path"):
        rule = nearest(path, rules)
        if rule is not None:  # no rule: nobody is compliant (as `with_compliance` says)
            by_rule[rule.pk].append(pk)
            rule_of[rule.pk] = rule
    parts, params = [], []
    for rule_pk, jurisdictions in by_rule.items():
        compliant = (
            with_compliance(
                ManagerProfile.objects.filter(jurisdiction_id__in=jurisdictions).order_by(),
                rule=rule_of[rule_pk],
                year=year,
            )
            .filter(compliant=True)
            .values("pk")
        )
        sql, sql_params = compliant.query.sql_with_params()
        parts.append(f"p.id IN ({sql})")
        params.extend(sql_params)
    return (" OR ".join(parts) or "false"), params


def _refresh_figures(cursor, year: int) -> None:
    compliant_sql, compliant_params = _compliant_sql(year)
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    active = Employment.Status.ACTIVE

    def row(**given) -> str:
        """The select list of one source: its figures, zeros for the others."""
        return ", ".join(given.get(name, "0") + f" AS {name}" for name in FIGURES)

    sums = ", ".join(f"sum({name})" for name in FIGURES)
    of_managers = row(
        managers="count(*)",
        certified="count(*) FILTER (WHERE p.skill_level <> %s)",
        compliant=f"count(*) FILTER (WHERE {compliant_sql})",
        trained="count(t.manager_id)",
        participations="coalesce(sum(t.n), 0)",
    )
    of_filings = row(**{s: f"count(*) FILTER (WHERE f.status = '{s}')" for s in STAGES})
    of_statuses = row(decided="count(*)", abnormal="count(*) FILTER (WHERE s.status = %s)")
    cursor.execute("DELETE FROM overview_areafigures WHERE year = %s", [year])
    cursor.execute(
        f"""
        INSERT INTO overview_areafigures (year, jurisdiction_id, firm_id, {", ".join(FIGURES)})
        SELECT %s, jurisdiction_id, firm_id, {sums}
          FROM (
            SELECT p.jurisdiction_id, e.firm_id, {of_managers}
              FROM accounts_managerprofile p
              LEFT JOIN accounts_employment e ON e.manager_id = p.id AND e.status = %s
              LEFT JOIN (
                  SELECT manager_id, count(*) AS n FROM training_studyrecord
                   WHERE completed_on BETWEEN %s AND %s AND status IN (%s, %s) AND assessment = %s
                   GROUP BY manager_id
              ) t ON t.manager_id = p.id
             WHERE p.jurisdiction_id IS NOT NULL
             GROUP BY p.jurisdiction_id, e.firm_id
            UNION ALL
            SELECT f.jurisdiction_id, f.firm_id, {of_filings}
              FROM registry_annualfiling f
             WHERE f.year = %s AND f.jurisdiction_id IS NOT NULL
             GROUP BY f.jurisdiction_id, f.firm_id
            UNION ALL
            SELECT s.jurisdiction_id, e.firm_id, {of_statuses}
              FROM registry_registrystatus s
              LEFT JOIN accounts_employment e ON e.manager_id = s.manager_id AND e.status = %s
             WHERE s.year = %s
             GROUP BY s.jurisdiction_id, e.firm_id
          ) AS parts
         GROUP BY jurisdiction_id, firm_id
        """,
        [
            year,
            SkillLevel.NONE,
            *compliant_params,
            active,
            first,
            last,
            # The records that count: verified, or accepted subject to an audit.
            *StudyRecord.COUNTING,
            StudyRecord.Assessment.PASSED,
            year,
            RegistryStatus.Status.ABNORMAL,
            active,
            year,
        ],
    )


def _refresh_days(cursor, year: int, today: dt.date) -> None:
    """Each jurisdiction's filings by state at the end of every day, from the first review event
    of the year's filings to today (at most the end of the next year): the running sum of what
    each day's events moved into and out of each state."""
    moved = ",\n".join(
        f"sum((e.to_status = '{s}')::int - (e.from_status = '{s}')::int) AS {s}" for s in STAGES
    )
    running = ",\n".join(f"sum(coalesce(d.{s}, 0)) OVER w AS {s}" for s in (*STAGES, "submitted"))
    cursor.execute("DELETE FROM overview_filingday WHERE year = %s", [year])
    cursor.execute(
        f"""
        WITH ev AS (
            SELECT f.id AS filing_id, f.jurisdiction_id,
                   (e.created_at AT TIME ZONE %s)::date AS day, e.action, e.from_status,
                   e.to_status
              FROM registry_reviewevent e
              JOIN registry_annualfiling f ON f.id = e.filing_id
             WHERE f.year = %s AND f.jurisdiction_id IS NOT NULL
        ),
        first_submit AS (
            SELECT jurisdiction_id, min(day) AS day FROM ev WHERE action = 'submit'
             GROUP BY filing_id, jurisdiction_id
        ),
        d AS (
            SELECT coalesce(a.jurisdiction_id, b.jurisdiction_id) AS jurisdiction_id,
                   coalesce(a.day, b.day) AS day, {", ".join(f"a.{s}" for s in STAGES)},
                   b.submitted
              FROM (SELECT e.jurisdiction_id, e.day, {moved} FROM ev e
                     GROUP BY e.jurisdiction_id, e.day) a
              FULL JOIN (SELECT jurisdiction_id, day, count(*) AS submitted FROM first_submit
                          GROUP BY jurisdiction_id, day) b
                ON b.jurisdiction_id = a.jurisdiction_id AND b.day = a.day
        ),
        span AS (SELECT min(day) AS first FROM d),
        days AS (
            SELECT g::date AS day FROM span,
                   generate_series(span.first, %s::date, interval '1 day') AS g
        )
        INSERT INTO overview_filingday (year, day, jurisdiction_id, {", ".join(STAGES)}, submitted)
        SELECT %s, days.day, j.jurisdiction_id, {running}
          FROM (SELECT DISTINCT jurisdiction_id FROM d) j
          CROSS JOIN days
          LEFT JOIN d ON d.jurisdiction_id = j.jurisdiction_id AND d.day = days.day
        WINDOW w AS (PARTITION BY j.jurisdiction_id ORDER BY days.day)
        """,
        [settings.TIME_ZONE, year, min(today, dt.date(year + 1, 12, 31)), year],
    )


def dashboard_refresh(*, year: int, today: dt.date | None = None) -> DashboardRefresh:
    """Compute the dashboard's figures of `year` for every jurisdiction (replacing the last
    computation in one transaction: the page never sees half of it). Safe to run twice."""
    today = today or timezone.localdate()
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # One refresh of a year at a time (the nightly job and a hand-run command).
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_KEY, year])
        _refresh_figures(cursor, year)
        _refresh_days(cursor, year, today)
        # Fresh statistics for the planner: the tables were just rewritten.
        cursor.execute("ANALYZE overview_areafigures, overview_filingday")
        refresh, _ = DashboardRefresh.objects.update_or_create(
            year=year,
            defaults={
                "refreshed_at": timezone.now(),
                "duration_ms": int((time.perf_counter() - started) * 1000),
            },
        )
    return refresh


def years_to_refresh(today: dt.date) -> list[int]:
    """This year (training, drafts) and the last (being filed, then decided)."""
    return [today.year - 1, today.year]


# --- the page ----------------------------------------------------------------------------------


@dataclass
class Row:
    """The figures of an area, a firm or the whole jurisdiction, with the rates."""

    key: object
    name: str
    figures: dict[str, int] = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.__dict__["figures"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def under_review_or_decided(self) -> int:
        f = self.figures
        return f["awaiting_firm"] + f["awaiting_bureau"] + f["returned"] + f["approved"]

    @property
    def not_submitted(self) -> int:
        return max(0, self.figures["managers"] - self.under_review_or_decided)

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(100 * part / whole, 1) if whole else None

    @property
    def compliance_rate(self):
        return self._rate(self.figures["compliant"], self.figures["managers"])

    @property
    def abnormal_rate(self):
        return self._rate(self.figures["abnormal"], self.figures["decided"])

    @property
    def certified_rate(self):
        return self._rate(self.figures["certified"], self.figures["managers"])

    @property
    def trained_rate(self):
        return self._rate(self.figures["trained"], self.figures["managers"])

    @property
    def approved_rate(self):
        return self._rate(self.figures["approved"], self.figures["managers"])


@dataclass
class Dashboard:
    year: int
    jurisdiction: Jurisdiction | None  # the area shown (None: everything, administrators)
    home: Jurisdiction | None  # the official's own jurisdiction
    areas: list[Row]
    firms: list[Row]
    firm_count: int
    firms_trained: int
    total: Row
    days: list[dict]
    window: object
    refreshed: DashboardRefresh | None
    parent_choice: Jurisdiction | None  # one level up, still within the official's reach

    @property
    def firms_trained_rate(self):
        return Row._rate(self.firms_trained, self.firm_count)


def dashboard_areas_for(*, user: User):
    """The jurisdictions whose dashboard the user may open (theirs and below; all for an
    administrator)."""
    return jurisdiction_list_for(user=user)


def dashboard_for(
    *, user: User, year: int, area: Jurisdiction | None = None, top_firms: int = 20
) -> Dashboard:
    """The dashboard of `area` (default: the user's jurisdiction) for `year`, from the stored
    figures. `area` must come from `dashboard_areas_for(user=...)`. Six or seven queries,
    whatever the size of the area."""
    roles = roles_of(user)
    home = roles.jurisdiction if roles.role == Role.BUREAU else None
    shown = area or home
    prefix = shown.path if shown is not None else ""
    # The area's jurisdictions once (ids, paths, names); the stored rows are read by id.
    places = {
        pk: (path, name)
        for pk, path, name in Jurisdiction.objects.filter(path__startswith=prefix).values_list(
            "pk", "path", "name"
        )
    }
    by_path = {path: (pk, name) for pk, (path, name) in places.items()}
    stored = AreaFigures.objects.filter(year=year, jurisdiction_id__in=list(places)).values_list(
        "jurisdiction_id", "firm_id", *FIGURES
    )

    # Summed by the areas one level down (a prefecture's counties; rows of the area itself stay
    # its own) and by firm, in one pass over the stored rows (a few thousand for a province).
    depth = len(prefix) + _LEVEL
    area_sums: dict[str, list[int]] = {}
    firm_sums: dict[int, list[int]] = {}
    for jurisdiction_id, firm_id, *figures in stored:
        key = places[jurisdiction_id][0][:depth]
        for sums, k in ((area_sums, key), (firm_sums, firm_id)):
            if k is None:
                continue
            into = sums.setdefault(k, [0] * len(FIGURES))
            for i, value in enumerate(figures):
                into[i] += value
    areas = []
    for key in sorted(area_sums):
        pk, name = by_path.get(key, (None, shown.name if shown else ""))
        areas.append(
            Row(
                key=Jurisdiction(pk=pk, path=key, name=name) if pk else None,
                name=name,
                figures=dict(zip(FIGURES, area_sums[key], strict=True)),
            )
        )
    total = Row(
        key=shown,
        name=shown.name if shown else "",
        figures={n: sum(a.figures[n] for a in areas) for n in FIGURES},
    )
    managers_at = FIGURES.index("managers")
    trained_at = FIGURES.index("trained")
    with_managers = {pk: f for pk, f in firm_sums.items() if f[managers_at]}
    firms_trained = sum(1 for f in with_managers.values() if f[trained_at] == f[managers_at])
    ranked = sorted(firm_sums, key=lambda pk: (-firm_sums[pk][managers_at], pk))[:top_firms]
    names = dict(Firm.objects.filter(pk__in=ranked).values_list("pk", "name"))
    firms = [
        Row(key=pk, name=names[pk], figures=dict(zip(FIGURES, firm_sums[pk], strict=True)))
        for pk in ranked
    ]

    window = window_for(jurisdiction=shown, year=year)
    # From a week before the window opens to a month after it closes (late decisions).
    start = window.opens_on - dt.timedelta(days=7)
    end = window.closes_on + dt.timedelta(days=30)
    days = list(
        FilingDay.objects.filter(
            year=year, jurisdiction_id__in=list(places), day__gte=start, day__lte=end
        )
        .values("day")
        .annotate(**{n: Sum(n, output_field=IntegerField()) for n in (*STAGES, "submitted")})
        .order_by("day")
    )

    parent = None
    if shown is not None and shown.parent_id and (home is None or shown.pk != home.pk):
        parent = Jurisdiction.objects.filter(pk=shown.parent_id).first()
    return Dashboard(
        year=year,
        jurisdiction=shown,
        home=home,
        areas=areas,
        firms=firms,
        firm_count=len(with_managers),  # firms with current managers in the area
        firms_trained=firms_trained,
        total=total,
        days=days,
        window=window,
        refreshed=DashboardRefresh.objects.filter(year=year).first(),
        parent_choice=parent,
    )
