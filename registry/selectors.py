"""Reads of the registry: windows and deadlines, filings scoped to a user, statuses."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.postgres.fields import ArrayField
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import JSONObject, Length
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import (
    Employment,
    Jurisdiction,
    ManagerProfile,
    User,
)
from accounts.roles import Role, roles_of
from accounts.selectors import current_employment, employed_by
from core.jurisdictions import nearest_in

from .models import (
    AnnualFiling,
    ConductRecord,
    CreditEntry,
    FilingExtension,
    FilingProof,
    FilingWindow,
    RegistryStatus,
    ReviewEvent,
    StatusReason,
    reasons_display,
    reasons_text,
)

# --- windows and deadlines -------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """When the year's filing may be submitted. The filing of a year reports on that year, so
    its window is in the next year's first quarter by default (2026's: 2027-01-01 to 03-31)."""

    year: int
    opens_on: dt.date
    closes_on: dt.date
    source: FilingWindow | None  # None: the default first quarter


def default_window(year: int) -> Window:
    return Window(
        year=year,
        opens_on=dt.date(year + 1, 1, 1),
        closes_on=dt.date(year + 1, 3, 31),
        source=None,
    )


def window_for(*, jurisdiction: Jurisdiction | None, year: int) -> Window:
    """The window of a jurisdiction: its own, else its nearest ancestor's, else 1 Jan - 31 Mar.
    One query (the ancestors' codes are in the path)."""
    if jurisdiction is None:
        return default_window(year)
    own = nearest_in(
        FilingWindow.objects.filter(year=year).select_related("jurisdiction"),
        path=jurisdiction.path,
    ).first()
    if own is None:
        return default_window(year)
    return Window(year=year, opens_on=own.opens_on, closes_on=own.closes_on, source=own)


@dataclass(frozen=True)
class Deadline:
    window: Window
    extension: FilingExtension | None

    @property
    def last_day(self) -> dt.date:
        if self.extension and self.extension.until > self.window.closes_on:
            return self.extension.until
        return self.window.closes_on

    def allows(self, day: dt.date) -> bool:
        return self.window.opens_on <= day <= self.last_day


def current_filing_year(
    *, manager: ManagerProfile, today: dt.date, deadlines: dict[int, Deadline] | None = None
) -> int:
    """The year a manager is filing for now: last year's until its deadline has passed (the
    window is in this year's first quarter), this year's after that. `deadlines` (from
    `deadlines_for`) saves the query when it holds last year's."""
    previous = (deadlines or {}).get(today.year - 1) or deadline_for(
        manager=manager, year=today.year - 1
    )
    if today <= previous.last_day:
        return today.year - 1
    return today.year


def deadline_for(*, manager: ManagerProfile, year: int) -> Deadline:
    return Deadline(
        window=window_for(jurisdiction=manager.jurisdiction, year=year),
        extension=FilingExtension.objects.filter(manager=manager, year=year).first(),
    )


def deadlines_for(*, manager: ManagerProfile, years: Iterable[int]) -> dict[int, Deadline]:
    """`deadline_for` of several years at once, in one query: the windows of the manager's
    jurisdiction and its ancestors and the manager's extensions, for those years. The window and
    extension objects carry their dates only (what a deadline is made of)."""
    years = sorted(set(years))
    path = manager.jurisdiction.path if manager.jurisdiction_id else ""
    windows = (
        nearest_in(FilingWindow.objects.filter(year__in=years), path=path)
        .order_by()
        .annotate(
            k=Value("window"),
            y=F("year"),
            a=F("opens_on"),
            b=F("closes_on"),
            depth=Length("jurisdiction__path"),
            i=F("pk"),
            j=F("jurisdiction_id"),
        )
        .values_list("k", "y", "a", "b", "depth", "i", "j")
    )
    extensions = (
        FilingExtension.objects.filter(manager=manager, year__in=years)
        .order_by()
        .annotate(
            k=Value("extension"),
            y=F("year"),
            a=F("until"),
            b=F("until"),
            depth=Value(0),
            i=F("pk"),
            j=F("manager_id"),
        )
        .values_list("k", "y", "a", "b", "depth", "i", "j")
    )
    found_windows: dict[int, tuple[int, Window]] = {}
    found_extensions: dict[int, FilingExtension] = {}
    for kind, year, first, last, depth, pk, owner in windows.union(extensions, all=True):
        if kind == "extension":
            found_extensions[year] = FilingExtension(pk=pk, manager=manager, year=year, until=first)
        elif year not in found_windows or depth > found_windows[year][0]:  # the nearest
            source = FilingWindow(
                pk=pk, jurisdiction_id=owner, year=year, opens_on=first, closes_on=last
            )
            window = Window(year=year, opens_on=first, closes_on=last, source=source)
            found_windows[year] = (depth, window)
    return {
        year: Deadline(
            window=found_windows[year][1] if year in found_windows else default_window(year),
            extension=found_extensions.get(year),
        )
        for year in years
    }


# --- filings ---------------------------------------------------------------------------------


def filing_list_for(*, user: User) -> QuerySet[AnnualFiling]:
    """Filings a user may see: a manager his own; a firm's reviewers those the firm reviews of
    managers it still employs (never his own, should a reviewer also have filed); bureau staff
    the submitted ones of their jurisdiction and below."""
    roles = roles_of(user)
    qs = AnnualFiling.objects.select_related(
        "manager", "firm", "jurisdiction", "manager__jurisdiction"
    )
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    if roles.role == Role.MANAGER and roles.manager_profile:
        return qs.filter(manager=roles.manager_profile)
    if roles.role == Role.FIRM:
        return qs.filter(employed_by(roles.firm, via="manager"), firm=roles.firm).exclude(
            manager__user=user
        )
    if roles.role == Role.BUREAU:
        # A draft is the manager's own until submitted (also after a withdrawal).
        return qs.filter(jurisdiction__path__startswith=roles.jurisdiction.path).exclude(
            status=AnnualFiling.Status.DRAFT
        )
    return qs.none()


def filing_get_for(*, user: User, pk: int) -> AnnualFiling:
    return get_object_or_404(filing_list_for(user=user), pk=pk)


def filing_of(*, manager: ManagerProfile, year: int) -> AnnualFiling | None:
    return (
        AnnualFiling.objects.filter(manager=manager, year=year)
        .select_related("firm", "jurisdiction")
        .first()
    )


def _detail_prefetches() -> list[Prefetch]:
    """A filing's proofs (history included) and events, as the filing pages show them."""
    return [
        Prefetch(
            "proofs",
            queryset=FilingProof.objects.select_related("uploaded_by").order_by(
                "kind", "-uploaded_at", "-pk"
            ),
        ),
        Prefetch(
            "events",
            queryset=ReviewEvent.objects.select_related("actor").order_by("created_at", "pk"),
        ),
    ]


def filing_detail(filing: AnnualFiling) -> AnnualFiling:
    """The filing with its current proofs, all proofs (history) and events, in three queries."""
    return (
        AnnualFiling.objects.select_related(
            "manager", "manager__jurisdiction", "firm", "jurisdiction"
        )
        .prefetch_related(*_detail_prefetches())
        .get(pk=filing.pk)
    )


@dataclass(frozen=True)
class ManagerFilings:
    """What the manager's filing page shows: every filing of his (newest year first), each with
    its proofs and events, and his current employment."""

    filings: list[AnnualFiling]
    employment: Employment | None

    def of_year(self, year: int) -> AnnualFiling | None:
        return next((f for f in self.filings if f.year == year), None)


def manager_filings(*, manager: ManagerProfile) -> ManagerFilings:
    """The manager's filings with their proofs and events (as `filing_detail`), and his current
    employment joined to them (at most one is current): three queries, four when he has no
    filing yet."""
    current = FilteredRelation(
        "manager__employments",
        condition=Q(manager__employments__status=Employment.Status.ACTIVE),
    )
    filings = list(
        AnnualFiling.objects.filter(manager=manager)
        .annotate(current_employment=current)
        .select_related("firm", "jurisdiction", "current_employment__firm__jurisdiction")
        .prefetch_related(*_detail_prefetches())
        .order_by("-year")
    )
    for filing in filings:
        filing.manager = manager
    if filings:
        employment = filings[0].current_employment
    else:
        employment = current_employment(manager=manager)
    return ManagerFilings(filings=filings, employment=employment)


def current_proofs(filing: AnnualFiling) -> dict[str, FilingProof]:
    """kind → current proof, from the prefetched proofs (see `filing_detail`)."""
    return {p.kind: p for p in filing.proofs.all() if p.replaced_at is None}


def current_proofs_in_order(filing: AnnualFiling) -> list[FilingProof]:
    """The current proofs in the order of the checklist, from the prefetched proofs."""
    current = current_proofs(filing)
    return [current[kind] for kind in FilingProof.Kind.values if kind in current]


def proof_get_for(*, user: User, pk: int) -> FilingProof:
    return get_object_or_404(
        FilingProof.objects.select_related("filing").filter(
            filing__in=filing_list_for(user=user).values("pk")
        ),
        pk=pk,
    )


def firm_queue(*, user: User, status: str = "", search: str = "") -> QuerySet[AnnualFiling]:
    """The firm's filings (default: those awaiting it), with what the list shows, one query:
    only the columns the list shows, and the manager's name and number (no snapshot to decode,
    no ID number to decrypt, fewer joins to plan)."""
    qs = (
        filing_list_for(user=user)
        .select_related(None)
        .select_related("manager")
        .only(
            "year",
            "status",
            "submitted_at",
            "manager_id",
            "manager__real_name",
            "manager__registration_number",
        )
    )
    if status:
        qs = qs.filter(status=status)
    search = search.strip()
    if search:
        qs = qs.filter(
            Q(manager__real_name__icontains=search) | Q(manager__registration_number__iexact=search)
        )
    return qs.order_by("submitted_at", "pk")


def can_firm_review(*, user: User, filing: AnnualFiling) -> bool:
    roles = roles_of(user)
    return (
        roles.role == Role.FIRM
        and filing.status == AnnualFiling.Status.AWAITING_FIRM
        and filing.firm_id == roles.firm.pk
    )


def certificate_lookup(*, code: str) -> AnnualFiling | None:
    code = "".join(ch for ch in code.upper() if ch.isalnum())
    if not code:
        return None
    return (
        AnnualFiling.objects.filter(certificate_code=code, status=AnnualFiling.Status.APPROVED)
        .select_related("manager")
        .first()
    )


# --- registry status, credit record, conduct records ---------------------------------------------


def in_force_between(start: dt.date, end: dt.date) -> Q:
    """Conduct records in force on at least one day from `start` to `end`."""
    return Q(effective_from__lte=end) & (
        Q(effective_until__isnull=True) | Q(effective_until__gte=start)
    )


def conduct_record_list_for(*, user: User) -> QuerySet[ConductRecord]:
    """Conduct records a user may see: a manager all of his own; a firm's staff the public ones
    of the managers it employs; bureau staff those of their jurisdiction and below."""
    qs = ConductRecord.objects.select_related("manager")
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    roles = roles_of(user)
    if roles.role == Role.MANAGER and roles.manager_profile:
        return qs.filter(manager=roles.manager_profile)
    if roles.role == Role.FIRM:
        return qs.filter(employed_by(roles.firm, via="manager"), public=True)
    if roles.role == Role.BUREAU:
        return qs.filter(manager__jurisdiction__path__startswith=roles.jurisdiction.path)
    return qs.none()


def conduct_evidence_get_for(*, user: User, pk: int) -> ConductRecord:
    """The evidence of a record: for the manager himself and bureau staff, not for firms."""
    roles = roles_of(user)
    if not (user.is_superuser or roles.role in (Role.MANAGER, Role.BUREAU)):
        return get_object_or_404(ConductRecord.objects.none(), pk=pk)
    return get_object_or_404(conduct_record_list_for(user=user), pk=pk)


def registry_status_list_for(*, user: User) -> QuerySet[RegistryStatus]:
    """Registry statuses a user may list: bureau staff those decided in their jurisdiction and
    below (the admin); a manager his own."""
    qs = RegistryStatus.objects.select_related("manager", "jurisdiction")
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    roles = roles_of(user)
    if roles.role == Role.BUREAU:
        return qs.filter(jurisdiction__path__startswith=roles.jurisdiction.path)
    if roles.role == Role.MANAGER and roles.manager_profile:
        return qs.filter(manager=roles.manager_profile)
    return qs.none()


# --- what a reader may learn of a status's reasons ---------------------------------------------
#
# A status's reasons are facts the public may know (no filing, not approved, hours short) and,
# possibly, a bad conduct record in force. Such a record may be kept from the public (`public`
# off): then only the manager himself and bureau staff learn that it is a reason. Everyone else
# (the public pages, firms) sees the status with the reasons that come from public facts, and a
# status abnormal only because of a record that is not public reads "abnormal, ask the bureau".


def sees_all_reasons(*, user: User) -> bool:
    """The manager (his own statuses: the pages give him no others) and bureau staff see every
    reason; firms and the public only those from public facts."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or roles_of(user).role in (Role.MANAGER, Role.BUREAU, Role.ADMIN)


def _public_bad_record_in_force() -> Exists:
    """For a `RegistryStatus` queryset: a public bad conduct record of the manager in force in
    the period the status was judged on (its year up to its window's close, as in
    `jobs.status_candidates`)."""
    year_start = Func(
        OuterRef("year"), Value(1), Value(1), function="make_date", output_field=DateField()
    )
    return Exists(
        ConductRecord.objects.filter(
            in_force_between(year_start, OuterRef("closed_on")),
            manager=OuterRef("manager"),
            kind=ConductRecord.Kind.BAD,
            public=True,
        )
    )


def with_disclosed_reasons(statuses: QuerySet[RegistryStatus]) -> QuerySet[RegistryStatus]:
    """Statuses annotated with what firms and the public may see: `public_reasons` (the
    reasons without "bad conduct record in force" unless a public record makes it one) and
    `ask_bureau` (abnormal only because of records that are not public). No extra query."""
    without_bad = Func(
        F("reasons"),
        Value(StatusReason.BAD_CONDUCT.value),
        function="array_remove",
        output_field=ArrayField(CharField(max_length=16)),
    )
    return statuses.annotate(
        public_reasons=Case(
            When(_public_bad_record_in_force(), then=F("reasons")),
            default=without_bad,
            output_field=ArrayField(CharField(max_length=16)),
        )
    ).annotate(
        ask_bureau=ExpressionWrapper(
            Q(status=RegistryStatus.Status.ABNORMAL) & Q(public_reasons__len=0),
            output_field=BooleanField(),
        )
    )


def _disclose(statuses: list[RegistryStatus], *, full_reasons: bool) -> list[RegistryStatus]:
    """Set what the pages show of each status: `shown_reasons` (labels), `shown_reasons_text`
    and `ask_bureau` (see `with_disclosed_reasons`, whose annotations are needed when not
    `full_reasons`)."""
    for status in statuses:
        codes = status.reasons if full_reasons else status.public_reasons
        status.shown_reasons = reasons_display(codes)
        status.shown_reasons_text = reasons_text(codes)
        if full_reasons:
            status.ask_bureau = False
    return statuses


@dataclass(frozen=True)
class CreditRecord:
    """A manager's credit record (信用档案) as one reader may see it."""

    statuses: list[RegistryStatus]
    entries: list[CreditEntry]
    conduct: list[ConductRecord]

    @property
    def latest(self) -> RegistryStatus | None:
        return self.statuses[0] if self.statuses else None


def credit_record_for(
    *,
    manager: ManagerProfile,
    conduct: QuerySet[ConductRecord],
    entries: bool = True,
    full_reasons: bool = False,
) -> CreditRecord:
    """The statuses by year (newest first), the changes (if `entries`) and the conduct records
    of `conduct` (already scoped to the reader) of one manager: three queries.

    Each status carries `shown_reasons`, `shown_reasons_text` and `ask_bureau` for the reader:
    every reason with `full_reasons` (the manager himself, bureau staff: `sees_all_reasons`),
    else only those from public facts; the changes (whose causes name conduct records) are then
    left out as well."""
    statuses = RegistryStatus.objects.filter(manager=manager).order_by("-year")
    if not full_reasons:
        statuses = with_disclosed_reasons(statuses)
    return CreditRecord(
        statuses=_disclose(list(statuses), full_reasons=full_reasons),
        entries=list(CreditEntry.objects.filter(manager=manager).select_related("actor")[:200])
        if entries and full_reasons
        else [],
        conduct=list(conduct.filter(manager=manager).order_by("-occurred_on", "-pk")),
    )


@dataclass(frozen=True)
class CreditSummary:
    """What an overview shows of a credit record: the latest status and how many conduct
    records the reader may see."""

    latest: RegistryStatus | None
    conduct_count: int


def credit_summary_for(
    *, manager: ManagerProfile, conduct: QuerySet[ConductRecord], full_reasons: bool = False
) -> CreditSummary:
    """The latest decided year's status, with what the reader may see of its reasons (as in
    `credit_record_for`), and the number of the manager's records of `conduct` (scoped to the
    reader): one query, where `credit_record_for` needs two."""
    latest = RegistryStatus.objects.filter(manager=OuterRef("pk")).order_by("-year")
    fields = {"pk": F("pk"), "year": F("year"), "status": F("status"), "reasons": F("reasons")}
    if not full_reasons:
        latest = with_disclosed_reasons(latest)
        fields.update(public_reasons=F("public_reasons"), ask_bureau=F("ask_bureau"))
    counted = (
        conduct.filter(manager=OuterRef("pk"))
        .order_by()
        .values("manager")
        .annotate(n=Count("pk"))
        .values("n")
    )
    row = (
        ManagerProfile.objects.filter(pk=manager.pk)
        .annotate(
            latest_status=Subquery(latest.values(json=JSONObject(**fields))[:1]),
            conduct_count=Subquery(counted),
        )
        .values("latest_status", "conduct_count")
        .get()
    )
    status = None
    if row["latest_status"]:
        data = row["latest_status"]
        status = RegistryStatus(
            pk=data["pk"],
            manager=manager,
            year=data["year"],
            status=data["status"],
            reasons=data["reasons"],
        )
        if not full_reasons:
            status.public_reasons = data["public_reasons"]
            status.ask_bureau = data["ask_bureau"]
        _disclose([status], full_reasons=full_reasons)
    return CreditSummary(latest=status, conduct_count=row["conduct_count"] or 0)


def public_credit_record(*, manager: ManagerProfile) -> CreditRecord:
    """What the public sees (公示): the statuses with the reasons from public facts, and the
    public conduct records in force."""
    today = timezone.localdate()
    conduct = ConductRecord.objects.filter(in_force_between(today, today), public=True)
    return credit_record_for(manager=manager, conduct=conduct, entries=False, full_reasons=False)


def _comparable_name(name: str) -> str:
    """A name as typed, made comparable: NFKC (full-width letters and spaces), no whitespace,
    case folded."""
    return "".join(unicodedata.normalize("NFKC", name or "").split()).casefold()


def public_manager_lookup(*, number: str, name: str) -> ManagerProfile | None:
    """A registered manager by exact registration number and matching name, for the public
    lookup (公示). An unknown number and a name that does not match are both None, after the
    same single query, so the answer does not tell which one was wrong."""
    number = "".join(unicodedata.normalize("NFKC", number or "").split()).upper()
    wanted = _comparable_name(name)
    if not number or not wanted:
        return None
    manager = (
        ManagerProfile.objects.filter(registration_number=number, completed_at__isnull=False)
        .select_related("jurisdiction")
        .first()
    )
    if manager is None or _comparable_name(manager.real_name) != wanted:
        return None
    return manager


def public_manager_by_certificate(*, code: str) -> ManagerProfile | None:
    """The manager of an approved filing certificate, for the public lookup by its code."""
    filing = certificate_lookup(code=code)
    if filing is None:
        return None
    return ManagerProfile.objects.select_related("jurisdiction").get(pk=filing.manager_id)


def with_latest_status(
    managers: QuerySet[ManagerProfile], *, status: str = ""
) -> QuerySet[ManagerProfile]:
    """Managers annotated with the status and year of their latest decided year (one query
    for a whole page: correlated subqueries), optionally only those with that status, and
    `latest_status_ask_bureau`: abnormal only because of records that are not public (what a
    firm sees instead of the status, see `with_disclosed_reasons`)."""
    latest = RegistryStatus.objects.filter(manager=OuterRef("pk")).order_by("-year")
    qs = managers.annotate(
        latest_status=Subquery(latest.values("status")[:1]),
        latest_status_year=Subquery(latest.values("year")[:1]),
        latest_status_ask_bureau=Subquery(
            with_disclosed_reasons(latest).values("ask_bureau")[:1],
            output_field=BooleanField(),
        ),
    )
    if status in RegistryStatus.Status.values:
        qs = qs.filter(latest_status=status)
    return qs


def status_counts_for(*, user: User) -> dict | None:
    """The latest decided year of what the user may see (bureau staff: their jurisdiction and
    below), with how many managers are normal and abnormal: two queries."""
    statuses = registry_status_list_for(user=user)
    year = statuses.order_by("-year").values_list("year", flat=True).first()
    if year is None:
        return None
    counts = dict(
        statuses.filter(year=year)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return {
        "year": year,
        "normal": counts.get(RegistryStatus.Status.NORMAL, 0),
        "abnormal": counts.get(RegistryStatus.Status.ABNORMAL, 0),
    }
