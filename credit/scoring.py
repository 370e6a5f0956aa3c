"""The score and grade of every manager for every year whose registry status is decided, with the
lines that explain each point, recomputed in bulk (all managers in a fixed number of statements)
or for a few managers (the same statements, narrowed): the two paths cannot disagree.

How a year's score is made (every figure from the jurisdiction's `CreditPolicy`, inherited down
the chain; the defaults in brackets):

* base part (80): profile complete and confirmed by a firm (20: registered, with a current
  employment), the year's filing approved by its deadline (30), the year's study hours met (30:
  the status has no "hours short" reason);
* automatic deductions: hours short (−10), filing late or missing (−5: not approved by the
  deadline), each failed course assessment in force (−5). An upheld objection to a deduction
  (a `DeductionWaiver`) treats the rule as met: the base points instead of the deduction;
* good conduct records in force (+10 each, at most +40 together), bad ones (−5 minor, −10
  general, −20 serious);
* the score is never below 0; grades: AAA ≥ 85, AA ≥ 80, A ≥ 70, B ≥ 60; below 60, C with a
  bad conduct record in force, B without.

Records count on the score's `as_of` day: today for the current (latest) year, the day before
the next year's close for earlier ones (the score was the current one until then). A record is
in force from its start to its end — `effective_until`, or `record_days` (365) after its start
when it has none — ended the day before an approved repair, never if voided. A failed
assessment counts `record_days` from its completion.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Employment, ManagerProfile
from core.broker import publish
from notifications.services import emails_queue
from registry.models import AnnualFiling, ConductRecord, RegistryStatus, StatusReason
from training.models import StudyRecord

from .listing import listing_run
from .models import CreditScore, DeductionWaiver, ScoreLine
from .policy import FIGURES, lock, policies_by_jurisdiction

Rule = ScoreLine.Rule

#: Called inside the recompute's transaction after the scores are written, with the name of a
#: temporary table ``(manager_id, old_grade, new_grade)`` of the managers whose current grade
#: changed (old_grade NULL: the first score) and the time of the run. For layers above credit
#: (e.g. telling the firms), registered once in their AppConfig.ready.
GradeChangeHook = Callable[[str, dt.datetime], None]
_grade_change_hooks: list[GradeChangeHook] = []


def grade_change_hook_register(hook: GradeChangeHook) -> None:
    if hook not in _grade_change_hooks:
        _grade_change_hooks.append(hook)


@dataclass
class RecomputeResult:
    scores: int = 0
    lines: int = 0
    grade_changes: int = 0
    listed: int = 0
    notices: list[int] = field(default_factory=list)
    deferred: bool = False  # left to the worker: another run held the lock


def scores_recompute(
    *,
    today: dt.date | None = None,
    manager_ids: list[int] | None = None,
    listing: bool = True,
    wait: bool = True,
) -> RecomputeResult:
    """Recompute the scores (and, with `listing`, run the automatic listing rules) of every
    manager, or of `manager_ids`. Safe to run twice or at the same time (serialised by a lock).
    Without `wait` (a page's request) and the lock held by another run, the managers are left
    to the worker after the commit (`deferred`)."""
    today = today or timezone.localdate()
    now = timezone.now()
    result = RecomputeResult()
    with transaction.atomic():
        if not lock(wait=wait):
            # The daily run holds the lock (for seconds): a page never waits for it; the worker
            # does these managers after the commit.
            for manager_id in manager_ids or []:
                transaction.on_commit(lambda m=manager_id: publish("credit.recompute_manager", [m]))
            result.deferred = True
            return result
        with connection.cursor() as cursor:
            # Temporary tables: dropped at the end (ON COMMIT DROP alone would keep them for a
            # second run in the same outer transaction).
            cursor.execute(f"DROP TABLE IF EXISTS {_TEMP}")
            _policies_table(cursor)
            _targets(cursor, today=today, manager_ids=manager_ids)
            result.scores = _scores_upsert(cursor, now=now, full=manager_ids is None)
            result.lines = _lines_insert(cursor, full=manager_ids is None)
            result.grade_changes = _totals(cursor)
        if result.grade_changes:
            for hook in _grade_change_hooks:
                hook("credit_grade_changes", now)
        if listing:
            listed = listing_run(today=today, now=now, manager_ids=manager_ids)
            result.listed, result.notices = listed.listed, listed.notices
            emails_queue(result.notices)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {_TEMP}")
    return result


_TEMP = "credit_pol, credit_t, credit_old, credit_ts, credit_lines, credit_grade_changes"


def _tables() -> dict[str, str]:
    return {
        "profile": ManagerProfile._meta.db_table,
        "employment": Employment._meta.db_table,
        "status": RegistryStatus._meta.db_table,
        "filing": AnnualFiling._meta.db_table,
        "conduct": ConductRecord._meta.db_table,
        "study": StudyRecord._meta.db_table,
        "score": CreditScore._meta.db_table,
        "line": ScoreLine._meta.db_table,
        "waiver": DeductionWaiver._meta.db_table,
    }


def _policies_table(cursor) -> None:
    """``credit_pol``: each jurisdiction's figures (the nearest policy up the chain)."""
    policies = policies_by_jurisdiction()
    ids = list(policies)
    columns = ", ".join(f"{name} int" for name in FIGURES)
    cursor.execute(
        f"CREATE TEMP TABLE credit_pol (pol_jurisdiction_id int PRIMARY KEY, {columns}) "
        "ON COMMIT DROP"
    )
    arrays = [ids] + [[getattr(policies[pk], name) for pk in ids] for name in FIGURES]
    unnest = ", ".join(["%s::int[]"] * len(arrays))
    cursor.execute(f"INSERT INTO credit_pol SELECT * FROM unnest({unnest})", arrays)


def _targets(cursor, *, today: dt.date, manager_ids: list[int] | None) -> None:
    """``credit_t``: every decided status to score, with its `as_of` day and whether it is the
    manager's latest."""
    t = _tables()
    where = "WHERE manager_id = ANY(%s)" if manager_ids is not None else ""
    params: list = [today, today, today]
    if manager_ids is not None:
        params.append(list(manager_ids))
    cursor.execute(
        f"""
        CREATE TEMP TABLE credit_t ON COMMIT DROP AS
        SELECT s.manager_id, s.year, s.jurisdiction_id, s.reasons, s.removed_reasons,
               s.closed_on,
               CASE WHEN s.next_close IS NULL THEN %s::date
                    ELSE LEAST(%s::date, s.next_close - 1) END AS as_of,
               (s.next_close IS NULL) AS latest,
               %s::date AS today
        FROM (
            SELECT st.*, lead(st.closed_on) OVER (PARTITION BY st.manager_id ORDER BY st.year)
                   AS next_close
            FROM {t["status"]} st {where}
        ) s
        """,
        params,
    )


def _scores_upsert(cursor, *, now: dt.datetime, full: bool) -> int:
    """One score row per target (kept: its id does not change; a row whose jurisdiction, flag
    and day are unchanged is not written), then ``credit_ts``: the targets with their score id
    and figures. Returns the number of targets."""
    t = _tables()
    narrowed = "" if full else " AND manager_id IN (SELECT manager_id FROM credit_t)"
    cursor.execute(
        "CREATE TEMP TABLE credit_old ON COMMIT DROP AS "
        f"SELECT manager_id, grade FROM {t['score']} WHERE latest{narrowed}"
    )
    # Before the upsert: the partial unique index allows one current score per manager.
    cursor.execute(
        f"""
        UPDATE {t["score"]} sc SET latest = false FROM credit_t x
        WHERE sc.manager_id = x.manager_id AND sc.year = x.year AND sc.latest AND NOT x.latest
        """
    )
    cursor.execute(
        f"""
        INSERT INTO {t["score"]} AS sc (manager_id, year, jurisdiction_id, score, grade,
                                        has_bad_record, latest, as_of, computed_at)
        SELECT manager_id, year, jurisdiction_id, 0, 'C', false, latest, as_of, %s
        FROM credit_t
        ON CONFLICT (manager_id, year) DO UPDATE SET
            jurisdiction_id = EXCLUDED.jurisdiction_id, latest = EXCLUDED.latest,
            as_of = EXCLUDED.as_of, computed_at = EXCLUDED.computed_at
        WHERE (sc.jurisdiction_id, sc.latest, sc.as_of)
              IS DISTINCT FROM (EXCLUDED.jurisdiction_id, EXCLUDED.latest, EXCLUDED.as_of)
        """,
        [now],
    )
    figures = ", ".join(f"p.{name}" for name in FIGURES)
    cursor.execute(
        f"""
        CREATE TEMP TABLE credit_ts ON COMMIT DROP AS
        SELECT t.*, sc.id AS score_id, {figures}
        FROM credit_t t
        JOIN {t["score"]} sc ON sc.manager_id = t.manager_id AND sc.year = t.year
        JOIN credit_pol p ON p.pol_jurisdiction_id = t.jurisdiction_id
        """
    )
    targets = cursor.rowcount
    cursor.execute("CREATE INDEX ON credit_ts (manager_id)")
    cursor.execute("ANALYZE credit_ts")
    return targets


#: A stored line and a computed one are the same line (hashable: no IS NOT DISTINCT FROM).
_SAME_LINE = """
    n.score_id = l.score_id AND n.rule = l.rule AND n.points = l.points
    AND COALESCE(n.conduct_record_id, 0) = COALESCE(l.conduct_record_id, 0)
    AND COALESCE(n.study_record_id, 0) = COALESCE(l.study_record_id, 0)
    AND COALESCE(n.effective_from, '-infinity') = COALESCE(l.effective_from, '-infinity')
    AND COALESCE(n.effective_until, '-infinity') = COALESCE(l.effective_until, '-infinity')
"""


def _lines_insert(cursor, *, full: bool) -> int:
    t = _tables()
    late_reasons = [StatusReason.NOT_FILED.value, StatusReason.NOT_APPROVED.value]
    hours_short = StatusReason.HOURS_SHORT.value
    year_from, year_until = "make_date(x.year, 1, 1)", "make_date(x.year, 12, 31)"
    record_end = (
        "LEAST(COALESCE(c.effective_until, c.effective_from + (x.record_days - 1)), "
        "COALESCE(c.repaired_on - 1, 'infinity'::date))"
    )

    def waived(rule: str) -> str:
        return (
            f"EXISTS (SELECT 1 FROM {t['waiver']} w WHERE w.manager_id = x.manager_id "
            f"AND w.year = x.year AND w.rule = '{rule}')"
        )

    sql = f"""
    CREATE TEMP TABLE credit_lines ON COMMIT DROP AS
    SELECT score_id, rule::varchar(20) AS rule, points::smallint AS points, conduct_record_id,
           study_record_id, f AS effective_from, u AS effective_until
    FROM (
        -- base: profile complete and confirmed by a firm
        SELECT x.score_id, '{Rule.BASE_PROFILE}' AS rule, x.base_profile AS points,
               NULL::int AS conduct_record_id, NULL::int AS study_record_id,
               {year_from} AS f, {year_until} AS u
        FROM credit_ts x JOIN {t["profile"]} m ON m.id = x.manager_id
        WHERE m.completed_at IS NOT NULL AND EXISTS (
            SELECT 1 FROM {t["employment"]} e
            WHERE e.manager_id = x.manager_id AND e.status = '{Employment.Status.ACTIVE}')
      UNION ALL
        -- the filing: approved by the deadline (base) or not (deduction)
        SELECT x.score_id,
               CASE WHEN x.on_time THEN '{Rule.BASE_FILING}' ELSE '{Rule.FILING_LATE}' END,
               CASE WHEN x.on_time THEN x.base_filing ELSE -x.deduct_filing END,
               NULL, NULL, {year_from}, {year_until}
        FROM (
            SELECT y.*, (
                EXISTS (
                    SELECT 1 FROM {t["filing"]} fl
                    WHERE fl.manager_id = y.manager_id AND fl.year = y.year
                      AND fl.status = '{AnnualFiling.Status.APPROVED}'
                      AND fl.approved_at
                          < ((y.closed_on + 1)::timestamp AT TIME ZONE %(tz)s))
                OR y.removed_reasons && %(late)s::varchar[]
                OR {waived(Rule.FILING_LATE).replace("x.", "y.")}
            ) AS on_time
            FROM credit_ts y
        ) x
      UNION ALL
        -- study hours: met (base) or short (deduction)
        SELECT x.score_id,
               CASE WHEN x.met THEN '{Rule.BASE_HOURS}' ELSE '{Rule.HOURS_SHORT}' END,
               CASE WHEN x.met THEN x.base_hours ELSE -x.deduct_hours_short END,
               NULL, NULL, {year_from}, {year_until}
        FROM (
            SELECT y.*, (
                NOT (%(short)s = ANY(y.reasons))
                OR {waived(Rule.HOURS_SHORT).replace("x.", "y.")}
            ) AS met
            FROM credit_ts y
        ) x
      UNION ALL
        -- good conduct records in force on as_of, newest first, up to good_max together
        SELECT g.score_id, '{Rule.GOOD_RECORD}',
               LEAST(g.good_points, g.good_max - (g.rn - 1) * g.good_points),
               g.id, NULL, g.effective_from, g.until
        FROM (
            SELECT x.score_id, x.good_points, x.good_max, c.id, c.effective_from,
                   {record_end} AS until,
                   row_number() OVER (PARTITION BY x.score_id
                                      ORDER BY c.occurred_on DESC, c.id DESC) AS rn
            FROM credit_ts x JOIN {t["conduct"]} c ON c.manager_id = x.manager_id
            WHERE c.kind = '{ConductRecord.Kind.GOOD}' AND c.voided_at IS NULL
              AND c.effective_from <= x.as_of AND {record_end} >= x.as_of
        ) g
        WHERE g.good_max - (g.rn - 1) * g.good_points > 0
      UNION ALL
        -- bad conduct records in force on as_of, by severity
        SELECT x.score_id, '{Rule.BAD_RECORD}',
               -CASE c.severity WHEN '{ConductRecord.Severity.MINOR}' THEN x.bad_minor
                                WHEN '{ConductRecord.Severity.SERIOUS}' THEN x.bad_serious
                                ELSE x.bad_general END,
               c.id, NULL, c.effective_from, {record_end}
        FROM credit_ts x JOIN {t["conduct"]} c ON c.manager_id = x.manager_id
        WHERE c.kind = '{ConductRecord.Kind.BAD}' AND c.voided_at IS NULL
          AND c.effective_from <= x.as_of AND {record_end} >= x.as_of
      UNION ALL
        -- failed course assessments in force on as_of
        SELECT x.score_id, '{Rule.ASSESSMENT_FAILED}', -x.deduct_assessment, NULL, r.id,
               r.completed_on, r.completed_on + (x.record_days - 1)
        FROM credit_ts x JOIN {t["study"]} r ON r.manager_id = x.manager_id
        WHERE r.assessment = '{StudyRecord.Assessment.FAILED}'
          AND r.status = '{StudyRecord.Status.VERIFIED}'
          AND r.completed_on <= x.as_of AND r.completed_on + (x.record_days - 1) >= x.as_of
    ) lines
    WHERE points <> 0 OR rule = '{Rule.BAD_RECORD}'
    """
    cursor.execute(
        sql,
        {"tz": timezone.get_default_timezone_name(), "late": late_reasons, "short": hours_short},
    )
    lines = cursor.rowcount
    columns = (
        "score_id, rule, points, conduct_record_id, study_record_id, effective_from, "
        "effective_until"
    )
    if not full:
        # A few managers: their lines replaced, through the indexes.
        cursor.execute(
            f"DELETE FROM {t['line']} WHERE score_id IN (SELECT score_id FROM credit_ts)"
        )
        cursor.execute(f"INSERT INTO {t['line']} ({columns}) SELECT {columns} FROM credit_lines")
        return lines
    # Everyone: only what changed is written (a daily run rewrites next to nothing), by hash or
    # merge anti-joins. A nested loop over the table being filled would be quadratic (its
    # statistics say empty on the first run).
    cursor.execute("ANALYZE credit_lines")
    cursor.execute("SET LOCAL enable_nestloop = off")
    cursor.execute(
        f"""
        DELETE FROM {t["line"]} l
        WHERE NOT EXISTS (SELECT 1 FROM credit_lines n WHERE {_SAME_LINE})
        """
    )
    cursor.execute(
        f"""
        INSERT INTO {t["line"]} ({columns})
        SELECT {", ".join(f"n.{c.strip()}" for c in columns.split(","))}
        FROM credit_lines n
        WHERE NOT EXISTS (SELECT 1 FROM {t["line"]} l WHERE {_SAME_LINE})
        """
    )
    cursor.execute("SET LOCAL enable_nestloop = on")
    return lines


def _totals(cursor) -> int:
    """Each score's total and grade from its lines (only the changed ones written); then
    ``credit_grade_changes``. Returns the number of grade changes."""
    t = _tables()
    cursor.execute(
        f"""
        UPDATE {t["score"]} sc SET score = x.score, has_bad_record = x.bad, grade = x.grade
        FROM (
            SELECT y.score_id, GREATEST(0, y.total) AS score, y.bad,
                   CASE WHEN y.total >= y.grade_aaa THEN 'AAA'
                        WHEN y.total >= y.grade_aa THEN 'AA'
                        WHEN y.total >= y.grade_a THEN 'A'
                        WHEN y.total >= y.grade_b THEN 'B'
                        WHEN y.bad THEN 'C'
                        ELSE 'B' END AS grade
            FROM (
                SELECT ts.score_id, ts.grade_aaa, ts.grade_aa, ts.grade_a, ts.grade_b,
                       COALESCE(l.total, 0) AS total, COALESCE(l.bad, false) AS bad
                FROM credit_ts ts LEFT JOIN (
                    SELECT score_id, sum(points) AS total,
                           bool_or(rule = '{Rule.BAD_RECORD}') AS bad
                    FROM credit_lines GROUP BY score_id
                ) l ON l.score_id = ts.score_id
            ) y
        ) x
        WHERE sc.id = x.score_id
          AND (sc.score, sc.grade, sc.has_bad_record) IS DISTINCT FROM (x.score, x.grade, x.bad)
        """
    )
    cursor.execute(
        f"""
        CREATE TEMP TABLE credit_grade_changes ON COMMIT DROP AS
        SELECT sc.manager_id, o.grade AS old_grade, sc.grade AS new_grade
        FROM {t["score"]} sc LEFT JOIN credit_old o ON o.manager_id = sc.manager_id
        WHERE sc.latest AND sc.manager_id IN (SELECT manager_id FROM credit_t)
          AND o.grade IS DISTINCT FROM sc.grade
        """
    )
    return cursor.rowcount
