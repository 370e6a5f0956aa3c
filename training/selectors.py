"""Reads of the training app: courses, study records, rules and the one compliance computation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DateTimeField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, ExtractYear, Greatest
from django.shortcuts import get_object_or_404

from accounts.access import employed_by, employing_firm, in_jurisdiction, own_manager, scoped
from accounts.models import Firm, Jurisdiction, ManagerProfile, User
from core.jurisdictions import nearest_in, on_path
from core.prepared import PreparedQuery

from .filters import ComplianceFilter, CourseFilter
from .models import (
    AuditDraw,
    AuditItem,
    AuditPolicy,
    Course,
    HoursRule,
    LockedStudyYear,
    Provider,
    ProviderReport,
    StudyRecord,
)

ZERO = Decimal("0")
_DEC = DecimalField(max_digits=8, decimal_places=1)


# --- rules -----------------------------------------------------------------------------------


def hours_rule_for(*, jurisdiction: Jurisdiction | None, year: int) -> HoursRule | None:
    """The rule in force for a jurisdiction and year: its own, else the nearest ancestor's.

    One query: the ancestors' codes are in the jurisdiction's path."""
    if jurisdiction is None:
        return None
    return nearest_in(
        HoursRule.objects.filter(year=year).select_related("jurisdiction"), path=jurisdiction.path
    ).first()


def is_study_year_locked(*, manager_id: int, year: int) -> bool:
    """Whether the manager's records of `year` are frozen by a submitted filing."""
    return LockedStudyYear.objects.filter(manager_id=manager_id, year=year).exists()


def locked_study_years(*, manager_ids: set[int], years: set[int]) -> set[tuple[int, int]]:
    """(manager, year) of these managers' years frozen by a submitted filing, among `years`: one
    query for a whole import (`is_study_year_locked` asks for one)."""
    return set(
        LockedStudyYear.objects.filter(manager_id__in=manager_ids, year__in=years)
        .order_by()
        .values_list("manager_id", "year")
    )


def study_years_and_locks(*, manager_id: int) -> tuple[set[int], dict[int, dt.datetime]]:
    """The years the manager has study records in (the year picker) and his years frozen by a
    submitted filing with when each was locked: one query for the hours page."""
    no_time = Cast(Value(None), output_field=DateTimeField())
    studied = (
        StudyRecord.objects.filter(manager_id=manager_id)
        .order_by()
        .annotate(y=Cast(ExtractYear("completed_on"), output_field=IntegerField()), t=no_time)
        .values_list("y", "t")
        .distinct()
    )
    locked = (
        LockedStudyYear.objects.filter(manager_id=manager_id)
        .order_by()
        .annotate(y=F("year"), t=F("locked_at"))
        .values_list("y", "t")
    )
    years: set[int] = set()
    locks: dict[int, dt.datetime] = {}
    for year, locked_at in studied.union(locked, all=True):
        if locked_at is None:
            years.add(year)
        else:
            locks[year] = locked_at
    return years, locks


# --- compliance ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Compliance:
    """A manager's hours for a year against the rule in force. The figures come from the
    database (`with_compliance`); this only carries them, with what a page shows of them."""

    year: int
    rule: HoursRule | None
    hours_year: Decimal
    hours_cycle: Decimal
    needed_year: Decimal
    needed_cycle: Decimal
    hours_needed: Decimal
    compliant: bool

    @property
    def has_rule(self) -> bool:
        return self.rule is not None

    @property
    def required_year(self) -> Decimal | None:
        return self.rule.annual_minimum if self.rule else None

    @property
    def required_cycle(self) -> Decimal | None:
        return self.rule.cycle_minimum if self.rule else None

    @property
    def cycle_start(self) -> int | None:
        return _cycle_start(self.rule, self.year)

    @property
    def percent_year(self) -> int:
        return _percent(self.hours_year, self.required_year)

    @property
    def percent_cycle(self) -> int:
        return _percent(self.hours_cycle, self.required_cycle)


def _percent(done: Decimal, required: Decimal | None) -> int:
    return 100 if not required else min(100, int(done * 100 / required))


def counting_records() -> Q:
    """Records that count: verified (or accepted subject to audit), with a passed assessment."""
    return Q(status__in=StudyRecord.COUNTING, assessment=StudyRecord.Assessment.PASSED)


def _cycle_start(rule: HoursRule | None, year: int) -> int | None:
    if rule is None or rule.cycle_minimum is None:
        return None
    return year - rule.cycle_years + 1


def _hours_of_each(condition: Q) -> Coalesce:
    """The counted hours of the manager of each row under `condition`, as a subquery (an index
    lookup per manager: record_manager_date_idx)."""
    total = (
        StudyRecord.objects.filter(condition, counting_records(), manager=OuterRef("pk"))
        .order_by()
        .values("manager")
        .annotate(total=Sum("hours"))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=_DEC), ZERO, output_field=_DEC)


def with_compliance(
    managers: QuerySet[ManagerProfile],
    *,
    rule: HoursRule | None,
    year: int,
    per_row: bool = False,
) -> QuerySet[ManagerProfile]:
    """Annotate managers with hours_year, hours_cycle, needed_year, needed_cycle, hours_needed
    and compliant for the year under `rule`: the one computation of compliance, in SQL, from
    verified, passed records only. All managers given must fall under the same rule.

    The hours are summed by one grouped join (the jobs over whole jurisdictions), or with
    `per_row` by a subquery per manager: a page of a long list sorted by name then sums the
    fifty managers it shows, not all of them."""
    start = _cycle_start(rule, year) or year
    if per_row:
        sums = {
            "hours_year": _hours_of_each(Q(completed_on__year=year)),
            "hours_cycle": _hours_of_each(
                Q(completed_on__year__gte=start, completed_on__year__lte=year)
            ),
        }
    else:
        counted = _prefixed(counting_records())
        in_year = Q(study_records__completed_on__year=year) & counted
        in_cycle = (
            Q(
                study_records__completed_on__year__gte=start,
                study_records__completed_on__year__lte=year,
            )
            & counted
        )
        sums = {
            "hours_year": Coalesce(
                Sum("study_records__hours", filter=in_year), ZERO, output_field=_DEC
            ),
            "hours_cycle": Coalesce(
                Sum("study_records__hours", filter=in_cycle), ZERO, output_field=_DEC
            ),
        }
    req_year = rule.annual_minimum if rule else None
    req_cycle = rule.cycle_minimum if rule else None
    qs = (
        managers.annotate(**sums)
        .annotate(
            needed_year=_needed(F("hours_year"), req_year),
            needed_cycle=_needed(F("hours_cycle"), req_cycle),
        )
        .annotate(hours_needed=Greatest(F("needed_year"), F("needed_cycle"), output_field=_DEC))
    )
    if rule is None:
        return qs.annotate(compliant=Value(False))
    return qs.annotate(compliant=Case(When(hours_needed=0, then=Value(True)), default=Value(False)))


def _rule_with_sums_query(
    *, manager_id: int, path: str, year: int, year_start: dt.date, year_end: dt.date
) -> QuerySet[HoursRule]:
    """The query of `_rule_with_sums`, every value a parameter (prepared below)."""

    def total(condition: Q) -> Subquery:
        return Subquery(
            StudyRecord.objects.filter(condition, counting_records(), manager_id=manager_id)
            .order_by()
            .values("manager")
            .annotate(total=Sum("hours"))
            .values("total")[:1],
            output_field=_DEC,
        )

    return on_path(
        HoursRule.objects.filter(year=year).select_related("jurisdiction"), path=path
    ).annotate(
        hours_year=total(Q(completed_on__gte=year_start, completed_on__lte=year_end)),
        hours_cycle=total(
            Q(
                completed_on__year__gte=Value(year) - OuterRef("cycle_years") + 1,
                completed_on__lte=year_end,
            )
        ),
    )[:1]


_RULE_WITH_SUMS = PreparedQuery(
    _rule_with_sums_query,
    manager_id=0,
    path="",
    year=0,
    year_start=dt.date(2000, 1, 1),
    year_end=dt.date(2000, 12, 31),
)


def _rule_with_sums(*, manager: ManagerProfile, year: int) -> HoursRule | None:
    """`hours_rule_for` annotated with the manager's counted hours of `year` (hours_year) and
    of the rule's cycle ending in `year` (hours_cycle): one query, compiled once."""
    if manager.jurisdiction is None:
        return None
    found = _RULE_WITH_SUMS.run(
        manager_id=manager.pk,
        path=manager.jurisdiction.path,
        year=year,
        year_start=dt.date(year, 1, 1),
        year_end=dt.date(year, 12, 31),
    )
    return found[0] if found else None


def compliance_for(*, manager: ManagerProfile, year: int) -> Compliance:
    """Hours counted, required and still needed for a manager and a year, and the rule applied.

    One manager's figures: the sums are one aggregate over his records (the conditions of
    `with_compliance`), and what is still needed follows from them by `with_compliance`'s
    arithmetic, done here in Python (`_needed_value`), since the database would only be asked
    to subtract two numbers. (Compiling `with_compliance`'s expressions for a single row cost
    more than the rest of a manager's overview.)"""
    # The rule in force, with the manager's sums of the year and of the rule's cycle as
    # subqueries of the same query; without a rule (rare), one aggregate of his records.
    rule = _rule_with_sums(manager=manager, year=year)
    if rule is not None:
        sums = {"hours_year": rule.hours_year, "hours_cycle": rule.hours_cycle}
        if rule.cycle_minimum is None:
            sums["hours_cycle"] = rule.hours_year
    else:
        sums = StudyRecord.objects.filter(counting_records(), manager=manager).aggregate(
            hours_year=Sum("hours", filter=Q(completed_on__year=year)),
            hours_cycle=Sum("hours", filter=Q(completed_on__year=year)),
        )
    hours_year = ZERO if sums["hours_year"] is None else sums["hours_year"]
    hours_cycle = ZERO if sums["hours_cycle"] is None else sums["hours_cycle"]
    needed_year = _needed_value(hours_year, rule.annual_minimum if rule else None)
    needed_cycle = _needed_value(hours_cycle, rule.cycle_minimum if rule else None)
    hours_needed = max(needed_year, needed_cycle)
    return Compliance(
        year=year,
        rule=rule,
        hours_year=hours_year,
        hours_cycle=hours_cycle,
        needed_year=needed_year,
        needed_cycle=needed_cycle,
        hours_needed=hours_needed,
        compliant=rule is not None and hours_needed == 0,
    )


def firm_compliance(
    *,
    firm: Firm,
    year: int,
    status: str = "",
    order: str = "name",
    search: str = "",
    whole: bool = False,
) -> tuple[QuerySet[ManagerProfile], HoursRule | None]:
    """Every current manager of the firm with the compliance figures for the year, in one query
    (the firm's managers share the firm's jurisdiction, hence one rule); narrowed and ordered
    by `ComplianceFilter` (the page's filter). The ID numbers are not read (nothing shows them).

    A page sorted by name sums only its own managers (`with_compliance`'s `per_row`); sorted or
    filtered by the figures, or `whole` (the export), the list needs every manager's sums, which
    one grouped join computes fastest."""
    rule = hours_rule_for(jurisdiction=firm.jurisdiction, year=year)
    order = order or "name"
    qs = with_compliance(
        ManagerProfile.objects.filter(employed_by(firm)).defer("id_number", "id_number_hash"),
        rule=rule,
        year=year,
        per_row=not whole and order == "name" and status not in ("compliant", "short"),
    ).order_by("real_name", "pk")
    data = {"status": status, "order": order, "q": search}
    return ComplianceFilter(data, queryset=qs).qs, rule


def _prefixed(q: Q) -> Q:
    """The same (flat) condition on the `study_records` relation."""
    return Q(**{f"study_records__{key}": value for key, value in q.children})


def _needed_value(hours: Decimal, required: Decimal | None) -> Decimal:
    """`_needed` for one manager's numbers: what is still missing, never below zero (PostgreSQL
    and Python decimals keep the same places in a subtraction and in GREATEST/max)."""
    if required is None:
        return ZERO
    return max(required - hours, ZERO)


def _needed(hours, required: Decimal | None):
    if required is None:
        return Value(ZERO, output_field=_DEC)
    return Greatest(
        ExpressionWrapper(Value(required, output_field=_DEC) - hours, output_field=_DEC),
        Value(ZERO, output_field=_DEC),
        output_field=_DEC,
    )


# --- scoped reads ----------------------------------------------------------------------------


def course_catalogue(*, search: str = "", category: str = "", mode: str = "") -> QuerySet[Course]:
    """Courses of approved providers, for managers to choose from (narrowed by `CourseFilter`)."""
    qs = Course.objects.filter(provider__status=Provider.Status.APPROVED).select_related("provider")
    return CourseFilter({"q": search, "category": category, "mode": mode}, queryset=qs).qs


def courses_still_open(*, day: dt.date, year: int) -> QuerySet[Course]:
    """Courses a manager (`OuterRef("pk")`, for a subquery on managers) can still take for
    `year` on `day`: of a provider approved then, not ended, not already recorded by him that
    year; the soonest first."""
    return (
        Course.objects.filter(
            Q(provider__approved_until__isnull=True) | Q(provider__approved_until__gte=day),
            provider__status=Provider.Status.APPROVED,
            end_date__gte=day,
            start_date__lte=dt.date(year, 12, 31),
        )
        .exclude(
            Exists(
                StudyRecord.objects.filter(
                    manager=OuterRef(OuterRef("pk")),
                    course=OuterRef("pk"),
                    completed_on__year=year,
                )
            )
        )
        .order_by("start_date", "pk")
    )


def study_record_list_for(*, user: User) -> QuerySet[StudyRecord]:
    """Records a user may see: a manager his own, a firm's staff those of its current managers,
    bureau staff those of their jurisdiction's managers."""
    return scoped(
        StudyRecord.objects.select_related("course", "course__provider", "manager"),
        user=user,
        manager=own_manager(),
        firm=employing_firm(via="manager"),
        bureau=in_jurisdiction("manager__jurisdiction"),
    )


def study_record_get_for(*, user: User, pk: int) -> StudyRecord:
    return get_object_or_404(study_record_list_for(user=user), pk=pk)


def provider_list_for(*, user: User) -> QuerySet[Provider]:
    return scoped(Provider.objects.all(), user=user, bureau=in_jurisdiction("jurisdiction"))


def provider_report_list_for(*, user: User) -> QuerySet[ProviderReport]:
    return scoped(
        ProviderReport.objects.select_related("uploaded_by"),
        user=user,
        provider=lambda roles: Q(provider=roles.provider_staff.provider),
        bureau=in_jurisdiction("provider__jurisdiction"),
    )


def provider_report_get_for(*, user: User, pk: int) -> ProviderReport:
    return get_object_or_404(provider_report_list_for(user=user), pk=pk)


# --- sampled audits --------------------------------------------------------------------------


def audit_policy_for(*, jurisdiction: Jurisdiction | None) -> AuditPolicy | None:
    """The audit policy in force for a jurisdiction: its own, else the nearest ancestor's (None:
    self-reported records wait for verification). One query."""
    if jurisdiction is None:
        return None
    return nearest_in(
        AuditPolicy.objects.select_related("jurisdiction"), path=jurisdiction.path
    ).first()


def audit_policy_list_for(*, user: User) -> QuerySet[AuditPolicy]:
    return scoped(
        AuditPolicy.objects.select_related("jurisdiction", "changed_by"),
        user=user,
        bureau=in_jurisdiction("jurisdiction"),
    )


def audit_item_list_for(*, user: User) -> QuerySet[AuditItem]:
    """Audited records a user may see: a manager his own, bureau staff those drawn in their
    jurisdiction (the manager's county when drawn). Firms and providers: none."""
    return scoped(
        AuditItem.objects.select_related(
            "record", "record__course", "record__course__provider", "manager", "jurisdiction"
        ),
        user=user,
        manager=own_manager(),
        bureau=in_jurisdiction("jurisdiction"),
    )


def audit_item_get_for(*, user: User, pk: int) -> AuditItem:
    return get_object_or_404(audit_item_list_for(user=user), pk=pk)


def audit_draw_list_for(*, user: User) -> QuerySet[AuditDraw]:
    return scoped(
        AuditDraw.objects.select_related("jurisdiction", "drawn_by"),
        user=user,
        bureau=in_jurisdiction("jurisdiction"),
    )


def audit_stats_for(*, user: User, year: int, today: dt.date) -> list[dict]:
    """Per county of the user's reach, for the audits of `year`: drawn, answered, upheld,
    rejected (of which expired) and overdue (evidence requested, deadline passed, not yet
    rejected by the daily job). One query."""
    rejected = Q(status=AuditItem.Status.REJECTED)
    return list(
        audit_item_list_for(user=user)
        .filter(draw__year=year)
        .order_by()
        .values("jurisdiction_id", "jurisdiction__name", "jurisdiction__path")
        .annotate(
            drawn=Count("pk"),
            answered=Count("pk", filter=Q(answered_at__isnull=False)),
            upheld=Count("pk", filter=Q(status=AuditItem.Status.UPHELD)),
            rejected=Count("pk", filter=rejected),
            expired=Count("pk", filter=rejected & Q(expired=True)),
            open=Count("pk", filter=Q(status__in=AuditItem.OPEN)),
            overdue=Count("pk", filter=Q(status=AuditItem.Status.REQUESTED, due_on__lt=today)),
        )
        .order_by("jurisdiction__path")
    )


# --- the year in view ------------------------------------------------------------------------

_year_in_view_rule: Callable[[ManagerProfile, dt.date], int] | None = None


def year_in_view_rule_register(rule: Callable[[ManagerProfile, dt.date], int]) -> None:
    """Hand down the rule of "which year a manager's pages show" (see `study_year_in_view`)."""
    global _year_in_view_rule  # set once at start-up, like the reason labels
    _year_in_view_rule = rule


def study_year_in_view(*, manager: ManagerProfile, today: dt.date) -> int:
    """The year a manager's pages open on when no year is asked for: the year being filed.

    In the first quarter, while last year's filing window is still open for the manager (his
    jurisdiction's window, or his extension), that is last year; after its deadline, this year.
    The overview, the study-hours page and the filing page must agree on it.

    Why the rule is handed down: it depends on filing windows and extensions, which are the
    registry's, and this app sits below the registry (it may not import it, not even inside a
    function). So the registry registers its one rule (`registry.selectors.current_filing_year`)
    at start-up (`RegistryConfig.ready`, as it hands its reason labels to the notices), and the
    pages of this app ask here. Without a registry (never in the project) the calendar year."""
    if _year_in_view_rule is None:
        return today.year
    return _year_in_view_rule(manager, today)
