"""Reads of the registry: windows and deadlines, filings scoped to a user, statuses."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
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
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, ExtractYear, JSONObject, Length
from django.shortcuts import get_object_or_404
from django.utils import formats, timezone
from django.utils.translation import gettext, pgettext

from accounts.access import employed_by, in_jurisdiction, own_manager, scoped
from accounts.models import (
    Employment,
    Firm,
    Jurisdiction,
    ManagerProfile,
    RegistrationStatus,
    User,
)
from accounts.roles import Role, roles_of
from accounts.selectors import current_employment
from core.jurisdictions import nearest_in, on_path
from core.prepared import PreparedQuery
from training.models import StudyRecord

from .filters import QUEUE_STATUSES, FirmQueueFilter
from .models import (
    AnnualFiling,
    ConductRecord,
    CreditEntry,
    FilingExtension,
    FilingProof,
    FilingWindow,
    ProofMark,
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
        """Whether the filing can be submitted on `day`."""
        return self.window.opens_on <= day <= self.last_day

    @property
    def prepare_from(self) -> dt.date:
        """The first day a draft can be started and its proofs uploaded: `REGISTRY_PREPARE_FROM`
        of the filing year (1 October by default), or the window's opening if that is earlier."""
        month, day = (int(part) for part in settings.REGISTRY_PREPARE_FROM.split("-"))
        return min(dt.date(self.window.year, month, day), self.window.opens_on)

    def allows_preparing(self, day: dt.date) -> bool:
        """Whether a draft can be started on `day`: from `prepare_from` to the last day."""
        return self.prepare_from <= day <= self.last_day


def current_filing_year(
    *, manager: ManagerProfile, today: dt.date, deadlines: dict[int, Deadline] | None = None
) -> int:
    """The year a manager is filing for now: last year's until its deadline has passed (the
    window is in this year's first quarter), this year's after that. `deadlines` (from
    `deadlines_for`) saves the query when it holds last year's."""
    previous = (deadlines or {}).get(today.year - 1) or todays_deadlines(
        manager=manager, today=today
    )[today.year - 1]
    if today <= previous.last_day:
        return today.year - 1
    return today.year


@dataclass(frozen=True)
class FilingInView:
    """The year a manager's pages show (the year being filed) with its deadline and filing:
    what the banner "N days left, file now" on every manager page is made of."""

    year: int
    deadline: Deadline
    filing: AnnualFiling | None
    today: dt.date

    @property
    def days_left(self) -> int:
        return (self.deadline.last_day - self.today).days

    @property
    def window_open(self) -> bool:
        return self.deadline.allows(self.today)

    @property
    def needs_filing(self) -> bool:
        """The window is open and the manager has still to submit (nothing, a draft, a return)."""
        return self.window_open and (self.filing is None or self.filing.is_editable)


def filing_in_view(*, manager: ManagerProfile, today: dt.date) -> FilingInView:
    """The banner's facts: the year being filed, its deadline and its filing's status, from
    `manager_calendar` (one query per request, shared with the page)."""
    calendar = manager_calendar(manager=manager, today=today)
    year = current_filing_year(manager=manager, today=today, deadlines=calendar.deadlines)
    return FilingInView(
        year=year,
        deadline=calendar.deadlines[year],
        filing=calendar.filing_of(manager, year),
        today=today,
    )


@dataclass(frozen=True)
class Calendar:
    """A manager's year facts as his pages need them: last year's and this year's deadlines,
    the status of each of his filings, and the years he has anything in (the year pickers)."""

    deadlines: dict[int, Deadline]
    filing_status: dict[int, str]
    years: set[int]

    def filing_of(self, manager: ManagerProfile, year: int) -> AnnualFiling | None:
        """The year's filing as far as a banner needs it (its status), or None."""
        if year not in self.filing_status:
            return None
        return AnnualFiling(manager=manager, year=year, status=self.filing_status[year])


def manager_calendar(*, manager: ManagerProfile, today: dt.date) -> Calendar:
    """`Calendar` in one query, read once per request for the request's own manager: kept on
    his profile object, which lives for that request only (`request_scoped`, set by
    accounts.backends). The banner, the year in view, the year pickers and the page share it.
    Any other profile object is read afresh on every call."""
    if not getattr(manager, "request_scoped", False):
        return _read_calendar(manager=manager, years={today.year - 1, today.year})
    memo = manager.__dict__.setdefault("_calendar", {})
    if today not in memo:
        memo[today] = _read_calendar(manager=manager, years={today.year - 1, today.year})
    return memo[today]


def todays_deadlines(*, manager: ManagerProfile, today: dt.date) -> dict[int, Deadline]:
    """Last year's and this year's deadlines (from `manager_calendar`)."""
    return manager_calendar(manager=manager, today=today).deadlines


def manager_years(*, manager: ManagerProfile) -> set[int]:
    """The years a manager has a filing or a study record in (from `manager_calendar`)."""
    return manager_calendar(manager=manager, today=timezone.localdate()).years


def deadline_for(*, manager: ManagerProfile, year: int) -> Deadline:
    return Deadline(
        window=window_for(jurisdiction=manager.jurisdiction, year=year),
        extension=FilingExtension.objects.filter(manager=manager, year=year).first(),
    )


def deadlines_for(*, manager: ManagerProfile, years: Iterable[int]) -> dict[int, Deadline]:
    """`deadline_for` of several years at once, in one query: the windows of the manager's
    jurisdiction and its ancestors and the manager's extensions, for those years. The window and
    extension objects carry their dates only (what a deadline is made of)."""
    return _read_calendar(manager=manager, years=years, everything=False).deadlines


_COLUMNS = ("k", "y", "a", "b", "depth", "i", "j", "s")


def _calendar_parts(
    *, manager_id: int, path: str, years: list[int], everything: bool = True
) -> QuerySet:
    """The UNION ALL of `_read_calendar`, with every value a parameter (prepared below)."""
    no_date = Cast(Value(None), output_field=DateField())
    parts = [
        on_path(FilingWindow.objects.filter(year__in=years), path=path)
        .order_by()
        .annotate(
            k=Value("window"),
            y=F("year"),
            a=F("opens_on"),
            b=F("closes_on"),
            depth=Length("jurisdiction__path"),
            i=F("pk"),
            j=F("jurisdiction_id"),
            s=Value(""),
        )
        .values_list(*_COLUMNS),
        FilingExtension.objects.filter(manager_id=manager_id, year__in=years)
        .order_by()
        .annotate(
            k=Value("extension"),
            y=F("year"),
            a=F("until"),
            b=F("until"),
            depth=Value(0),
            i=F("pk"),
            j=F("manager_id"),
            s=Value(""),
        )
        .values_list(*_COLUMNS),
    ]
    if everything:
        parts.append(
            AnnualFiling.objects.filter(manager_id=manager_id)
            .order_by()
            .annotate(
                k=Value("filing"),
                y=F("year"),
                a=no_date,
                b=no_date,
                depth=Value(0),
                i=F("pk"),
                j=F("manager_id"),
                s=F("status"),
            )
            .values_list(*_COLUMNS)
        )
        parts.append(
            StudyRecord.objects.filter(manager_id=manager_id)
            .order_by()
            .annotate(
                k=Value("studied"),
                y=Cast(ExtractYear("completed_on"), output_field=IntegerField()),
                a=no_date,
                b=no_date,
                depth=Value(0),
                i=Value(0),
                j=F("manager_id"),
                s=Value(""),
            )
            .values_list(*_COLUMNS)
            .distinct()
        )
    return parts[0].union(*parts[1:], all=True)


#: The request's calendar (last year and this year, everything): on every manager page.
_CALENDAR = PreparedQuery(
    lambda manager_id, path, last_year, this_year: _calendar_parts(
        manager_id=manager_id, path=path, years=[last_year, this_year]
    ),
    manager_id=0,
    path="",
    last_year=0,
    this_year=0,
)


def _read_calendar(
    *, manager: ManagerProfile, years: Iterable[int], everything: bool = True
) -> Calendar:
    """One UNION ALL: the windows on the manager's jurisdiction's path and his extensions for
    `years`, and (`everything`) the year and status of each of his filings and the years of his
    study records."""
    years = sorted(set(years))
    path = manager.jurisdiction.path if manager.jurisdiction_id else ""
    if everything and len(years) == 2:
        rows = _CALENDAR.run(
            manager_id=manager.pk, path=path, last_year=years[0], this_year=years[1]
        )
    else:
        rows = _calendar_parts(manager_id=manager.pk, path=path, years=years, everything=everything)
    found_windows: dict[int, tuple[int, Window]] = {}
    found_extensions: dict[int, FilingExtension] = {}
    statuses: dict[int, str] = {}
    active_years: set[int] = set()
    for kind, year, first, last, depth, pk, owner, status in rows:
        if kind == "extension":
            found_extensions[year] = FilingExtension(pk=pk, manager=manager, year=year, until=first)
        elif kind == "window":
            if year not in found_windows or depth > found_windows[year][0]:  # the nearest
                source = FilingWindow(
                    pk=pk, jurisdiction_id=owner, year=year, opens_on=first, closes_on=last
                )
                window = Window(year=year, opens_on=first, closes_on=last, source=source)
                found_windows[year] = (depth, window)
        else:
            active_years.add(int(year))
            if kind == "filing":
                statuses[int(year)] = status
    deadlines = {
        year: Deadline(
            window=found_windows[year][1] if year in found_windows else default_window(year),
            extension=found_extensions.get(year),
        )
        for year in years
    }
    return Calendar(deadlines=deadlines, filing_status=statuses, years=active_years)


# --- filings ---------------------------------------------------------------------------------


def firm_filings(*, firm, user) -> Q:
    """A firm reviewer's filings (`filing_list_for`'s firm rule): the firm's filings of the
    managers it still employs, never his own should he also have filed."""
    return employed_by(firm, via="manager") & Q(firm=firm) & ~Q(manager__user=user)


def filing_list_for(*, user: User) -> QuerySet[AnnualFiling]:
    """Filings a user may see: a manager his own; a firm's reviewers those the firm reviews of
    managers it still employs (never his own, should a reviewer also have filed); bureau staff
    the submitted ones of their jurisdiction and below."""
    return scoped(
        AnnualFiling.objects.select_related(
            "manager", "firm", "jurisdiction", "manager__jurisdiction"
        ),
        user=user,
        manager=own_manager(),
        firm=lambda roles: firm_filings(firm=roles.firm, user=roles.user),
        # A draft is the manager's own until submitted (also after a withdrawal).
        bureau=lambda roles: (
            in_jurisdiction("jurisdiction")(roles) & ~Q(status=AnnualFiling.Status.DRAFT)
        ),
    )


def filing_get_for(*, user: User, pk: int) -> AnnualFiling:
    return get_object_or_404(filing_list_for(user=user), pk=pk)


def filing_of(*, manager: ManagerProfile, year: int) -> AnnualFiling | None:
    return (
        AnnualFiling.objects.filter(manager=manager, year=year)
        .select_related("firm", "jurisdiction")
        .first()
    )


#: Proofs that do not change from one year to the next: offered again ("use last year's").
REUSABLE_PROOF_KINDS = (
    FilingProof.Kind.ID_CARD,
    FilingProof.Kind.DIPLOMA,
    FilingProof.Kind.TITLE,
)


def reusable_proofs(*, filing: AnnualFiling, exclude_in_use: bool = True) -> dict[str, FilingProof]:
    """The document wallet: by kind, the proofs of the manager's latest **approved** earlier
    filing that this filing can use again (ID card, diploma, title certificate), leaving out
    those this filing already uses.

    Only an approved filing's proofs: a returned filing's proofs (even those current at the
    return) may be what the reviewer asked to correct, and a filing still under review has not
    been accepted; the proofs current when the filing was approved are the ones accepted."""
    previous = (
        AnnualFiling.objects.filter(
            manager_id=filing.manager_id,
            year__lt=filing.year,
            status=AnnualFiling.Status.APPROVED,
        )
        .order_by("-year")
        .first()
    )
    if previous is None:
        return {}
    in_use = (
        set(
            FilingProof.objects.filter(filing=filing, replaced_at__isnull=True).values_list(
                "file", flat=True
            )
        )
        if exclude_in_use
        else set()
    )
    return {
        proof.kind: proof
        for proof in FilingProof.objects.filter(
            filing=previous, replaced_at__isnull=True, kind__in=REUSABLE_PROOF_KINDS
        ).select_related("filing")
        if proof.file.name not in in_use
    }


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


def _firm_queue_columns(qs: QuerySet[AnnualFiling]) -> QuerySet[AnnualFiling]:
    return (
        qs.select_related(None)
        .select_related("manager")
        .only(
            "year",
            "status",
            "submitted_at",
            "manager_id",
            "manager__real_name",
            "manager__registration_number",
        )
        .order_by("submitted_at", "pk")
    )


def firm_queue_all(*, user: User) -> QuerySet[AnnualFiling]:
    """The firm's filings with what the queue shows (only those columns: no snapshot to decode,
    no ID number to decrypt, fewer joins to plan), for `FirmQueueFilter` to narrow."""
    return _firm_queue_columns(filing_list_for(user=user))


def firm_queue(*, user: User, status: str = "", search: str = "") -> QuerySet[AnnualFiling]:
    """The firm's filings (default: those awaiting it), narrowed by `FirmQueueFilter`."""
    return FirmQueueFilter({"status": status, "q": search}, queryset=firm_queue_all(user=user)).qs


#: What a row of the queue shows (registry_tags.firm_queue_rows reads these names).
QUEUE_ROW = (
    "pk",
    "year",
    "status",
    "submitted_at",
    "manager__real_name",
    "manager__registration_number",
)
QUEUE_PAGE = 50


def _queue_first_page(firm_id: int, user_id: int, *, status: str) -> QuerySet:
    filings = AnnualFiling.objects.filter(
        firm_filings(firm=Firm(pk=firm_id), user=User(pk=user_id))
    )
    qs = FirmQueueFilter({"status": status}, queryset=_firm_queue_columns(filings)).qs
    return qs.values_list(*QUEUE_ROW, named=True)[:QUEUE_PAGE]


def _queue_count(firm_id: int, user_id: int, *, status: str) -> QuerySet:
    filings = AnnualFiling.objects.filter(
        firm_filings(firm=Firm(pk=firm_id), user=User(pk=user_id))
    )
    qs = FirmQueueFilter({"status": status}, queryset=filings).qs
    # Every row has the same firm (`firm_filings`): grouped by it, one row with the count, or
    # none for an empty queue. A queryset, so that it can be prepared like the page.
    return qs.order_by().values("firm").annotate(n=Count("pk")).values_list("n", flat=True)


def _prepared_by_status(build) -> dict[str, PreparedQuery]:
    return {
        status: PreparedQuery(
            lambda firm_id, user_id, status=status: build(firm_id, user_id, status=status),
            firm_id=0,
            user_id=0,
        )
        for status in QUEUE_STATUSES
    }


_QUEUE_FIRST_PAGE = _prepared_by_status(_queue_first_page)
_QUEUE_COUNT = _prepared_by_status(_queue_count)


def firm_queue_first_page(*, user: User, status: str) -> tuple[list, int]:
    """The first page of a firm reviewer's queue at `status` (no search) and how many filings
    there are: the page everyone opens, as two prepared queries (core.prepared) with the same
    rule as `filing_list_for` (tests/registry/test_firm_queue_prepared.py compares them)."""
    roles = roles_of(user)
    if roles.role != Role.FIRM or user.is_superuser or status not in _QUEUE_COUNT:
        raise ValueError("only a firm reviewer's queue is prepared")
    values = {"firm_id": roles.firm.pk, "user_id": user.pk}
    counted = _QUEUE_COUNT[status].run(**values)
    return _QUEUE_FIRST_PAGE[status].run(**values), counted[0] if counted else 0


def can_firm_review(*, user: User, filing: AnnualFiling) -> bool:
    roles = roles_of(user)
    return (
        roles.role == Role.FIRM
        and filing.status == AnnualFiling.Status.AWAITING_FIRM
        and filing.firm_id == roles.firm.pk
    )


def certificate_lookup(*, code: str) -> AnnualFiling | None:
    """The filing a certificate's code was issued for: approved, or approved and since revoked
    (the page says so: `certificate_void`)."""
    code = "".join(ch for ch in code.upper() if ch.isalnum())
    if not code:
        return None
    return (
        AnnualFiling.objects.filter(
            certificate_code=code,
            status__in=[AnnualFiling.Status.APPROVED, AnnualFiling.Status.REVOKED],
        )
        .select_related("manager")
        .first()
    )


@dataclass(frozen=True)
class Void:
    """Why a certificate no longer verifies: "revoked" (the filing) or "cancelled" (the
    registration), since when."""

    why: str
    on: dt.datetime


def certificate_void(filing: AnnualFiling) -> Void | None:
    """None while the certificate holds: its filing approved and its manager's registration
    in force."""
    if filing.status == AnnualFiling.Status.REVOKED:
        return Void("revoked", filing.revoked_at)
    if filing.manager.registration_status == RegistrationStatus.CANCELLED:
        return Void("cancelled", filing.manager.cancelled_at)
    return None


# --- registry status, credit record, conduct records ---------------------------------------------


def in_force_between(start: dt.date, end: dt.date) -> Q:
    """Conduct records in force on at least one day from `start` to `end`: not voided (an
    upheld objection), and a repaired record only up to the day before its repair."""
    return (
        Q(effective_from__lte=end)
        & (Q(effective_until__isnull=True) | Q(effective_until__gte=start))
        & Q(voided_at__isnull=True)
        & (Q(repaired_on__isnull=True) | Q(repaired_on__gt=start))
    )


def conduct_record_list_for(*, user: User) -> QuerySet[ConductRecord]:
    """Conduct records a user may see: a manager all of his own; a firm's staff the public ones
    of the managers it employs; bureau staff those of their jurisdiction and below."""
    return scoped(
        ConductRecord.objects.select_related("manager"),
        user=user,
        manager=own_manager(),
        firm=lambda roles: employed_by(roles.firm, via="manager") & Q(public=True),
        bureau=in_jurisdiction("manager__jurisdiction"),
    )


def conduct_evidence_get_for(*, user: User, pk: int) -> ConductRecord:
    """The evidence of a record: for the manager himself and bureau staff, not for firms."""
    roles = roles_of(user)
    if not (user.is_superuser or roles.role in (Role.MANAGER, Role.BUREAU)):
        return get_object_or_404(ConductRecord.objects.none(), pk=pk)
    return get_object_or_404(conduct_record_list_for(user=user), pk=pk)


def registry_status_list_for(*, user: User) -> QuerySet[RegistryStatus]:
    """Registry statuses a user may list: bureau staff those decided in their jurisdiction and
    below (the admin); a manager his own."""
    return scoped(
        RegistryStatus.objects.select_related("manager", "jurisdiction"),
        user=user,
        manager=own_manager(),
        bureau=in_jurisdiction("jurisdiction"),
    )


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


def _status_summary_query(
    *, manager_id: int, conduct: QuerySet[ConductRecord], full_reasons: bool
) -> QuerySet:
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
    return (
        ManagerProfile.objects.filter(pk=manager_id)
        .annotate(
            latest_status=Subquery(latest.values(json=JSONObject(**fields))[:1]),
            conduct_count=Subquery(counted),
        )
        .values("latest_status", "conduct_count")
    )


#: A manager's own summary (his overview, on every visit): compiled once.
_OWN_STATUS_SUMMARY = PreparedQuery(
    lambda manager_id: _status_summary_query(
        manager_id=manager_id, conduct=ConductRecord.objects.all(), full_reasons=True
    ),
    manager_id=0,
)


def status_summary_for(
    *,
    manager: ManagerProfile,
    conduct: QuerySet[ConductRecord] | None = None,
    full_reasons: bool = False,
) -> CreditSummary:
    """The latest decided year's status, with what the reader may see of its reasons (as in
    `credit_record_for`), and the number of the manager's records of `conduct` (scoped to the
    reader): one query, where `credit_record_for` needs two. Without `conduct`: the manager
    himself reading his own (every record, the full reasons)."""
    if conduct is None:
        full_reasons = True
        row = _OWN_STATUS_SUMMARY.run(manager_id=manager.pk)[0]
    else:
        row = _status_summary_query(
            manager_id=manager.pk, conduct=conduct, full_reasons=full_reasons
        ).get()
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


def public_revoked_filings(*, manager: ManagerProfile) -> list[AnnualFiling]:
    """The manager's filings whose approval the bureau revoked (year and date are public)."""
    return list(
        AnnualFiling.objects.filter(manager=manager, status=AnnualFiling.Status.REVOKED)
        .only("year", "revoked_at", "manager_id")
        .order_by("-year")
    )


def _comparable_name(name: str) -> str:
    """A name as typed, made comparable: NFKC (full-width letters and spaces), no whitespace,
    case folded."""
    return "".join(unicodedata.normalize("NFKC", name or "").split()).casefold()


#: The registrations the public can find: in force, or cancelled (the page says since when).
PUBLIC_REGISTRATION = (RegistrationStatus.REGISTERED, RegistrationStatus.CANCELLED)


def public_manager_lookup(*, number: str, name: str) -> ManagerProfile | None:
    """A registered manager by exact registration number and matching name, for the public
    lookup (公示). An unknown number and a name that does not match are both None, after the
    same single query, so the answer does not tell which one was wrong."""
    number = "".join(unicodedata.normalize("NFKC", number or "").split()).upper()
    wanted = _comparable_name(name)
    if not number or not wanted:
        return None
    manager = (
        ManagerProfile.objects.filter(
            registration_number=number, registration_status__in=PUBLIC_REGISTRATION
        )
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
    return (
        ManagerProfile.objects.select_related("jurisdiction")
        .filter(pk=filing.manager_id, registration_status__in=PUBLIC_REGISTRATION)
        .first()
    )


def with_latest_status(managers: QuerySet[ManagerProfile]) -> QuerySet[ManagerProfile]:
    """Managers annotated with the status and year of their latest decided year (one query
    for a whole page: correlated subqueries), and `latest_status_ask_bureau`: abnormal only
    because of records that are not public (what a firm sees instead of the status, see
    `with_disclosed_reasons`)."""
    latest = RegistryStatus.objects.filter(manager=OuterRef("pk")).order_by("-year")
    return managers.annotate(
        latest_status=Subquery(latest.values("status")[:1]),
        latest_status_year=Subquery(latest.values("year")[:1]),
        latest_status_ask_bureau=Subquery(
            with_disclosed_reasons(latest).values("ask_bureau")[:1],
            output_field=BooleanField(),
        ),
    )


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


# --- the audit trail of a filing -------------------------------------------------------------


@dataclass(frozen=True)
class AuditChange:
    """One field of one recorded change, as a reader reads it: the field's name, the value
    before (empty when there was none) and after."""

    field: str
    old: str
    new: str


@dataclass(frozen=True)
class AuditEntry:
    when: dt.datetime
    record: str  # what changed: the filing, a proof, the profile
    label: str  # which proof
    action: str  # created, changed, deleted
    reason: str  # why, where the change says (a workflow step, a replaced file)
    who: User | None
    changes: list[AuditChange]


def _audit_reason(reason: str | None) -> str:
    if not reason:
        return ""
    if reason in ReviewEvent.Action.values:
        return str(ReviewEvent.Action(reason).label)
    if reason == "replaced":
        return str(pgettext("audit", "replaced by a new file"))
    return reason


def _audit_value(field, value, related: dict) -> str:
    """A stored value as the page shows it elsewhere: a choice's label, a related row's name,
    a local time without seconds; empty for nothing."""
    if value is None or value == "":
        return ""
    if field.is_relation:
        obj = related.get(field.related_model, {}).get(value)
        return str(obj) if obj is not None else f"#{value}"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, dt.datetime):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    if isinstance(value, dt.date):
        return formats.date_format(value, "DATE_FORMAT")
    if isinstance(value, bool):
        return str(gettext("Yes") if value else gettext("No"))
    return str(value)


def filing_audit_trail(filing: AnnualFiling) -> list[AuditEntry]:
    """Every recorded change of the filing, its proofs and the manager's profile, newest first,
    with labels instead of stored values. The profile's history holds no ID number (excluded
    from its history table). A constant number of queries however long the history: one per
    history table, then one per kind of related row that a change names (firm, jurisdiction,
    user)."""
    sources = [
        (gettext("filing"), AnnualFiling, AnnualFiling.history.filter(id=filing.pk)),
        (gettext("proof"), FilingProof, FilingProof.history.filter(filing_id=filing.pk)),
        (gettext("profile"), ManagerProfile, ManagerProfile.history.filter(id=filing.manager_id)),
    ]
    actions = {
        "+": pgettext("audit", "created"),
        "~": pgettext("audit", "changed"),
        "-": pgettext("audit", "deleted"),
    }
    raw = []  # (record, model, entry, delta changes)
    wanted: dict = {}  # related model -> ids named by a change
    for record, model, qs in sources:
        previous = {}
        for entry in qs.select_related("history_user").order_by("history_date", "history_id"):
            changes = []
            if entry.history_type == "~" and entry.id in previous:
                delta = entry.diff_against(previous[entry.id], excluded_fields=["snapshot"])
                for change in delta.changes:
                    field = model._meta.get_field(change.field)
                    if field.is_relation:
                        ids = wanted.setdefault(field.related_model, set())
                        ids.update(v for v in (change.old, change.new) if v is not None)
                    changes.append((field, change.old, change.new))
            previous[entry.id] = entry
            raw.append((record, entry, changes))
    related = {model: model._default_manager.in_bulk(ids) for model, ids in wanted.items()}

    rows = []
    for record, entry, changes in raw:
        shown = []
        for field, old, new in changes:
            old_text = _audit_value(field, old, related)
            new_text = _audit_value(field, new, related)
            if old_text == new_text:  # e.g. None → "": nothing a reader would call a change
                continue
            shown.append(AuditChange(str(field.verbose_name), old_text, new_text))
        rows.append(
            AuditEntry(
                when=entry.history_date,
                record=record,
                # From the entry's own fields: str(instance) would query per entry.
                label=(
                    f"{FilingProof.Kind(entry.kind).label} · {entry.original_name}"
                    if hasattr(entry, "original_name")
                    else ""
                ),
                action=str(actions[entry.history_type]),
                reason=_audit_reason(entry.history_change_reason),
                who=entry.history_user,
                changes=shown,
            )
        )
    rows.sort(key=lambda r: r.when, reverse=True)
    return rows


# --- correction marks of a return ------------------------------------------------------------


def open_marks(filing: AnnualFiling) -> dict[str, ProofMark]:
    """kind → the open correction mark of the filing's last return (one query): what its
    manager must correct before submitting again."""
    return {
        mark.kind: mark
        for mark in ProofMark.objects.filter(filing=filing, resolved_at__isnull=True).order_by(
            "created_at", "pk"
        )
    }
