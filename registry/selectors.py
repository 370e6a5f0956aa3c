"""Reads of the registry: windows and deadlines, filings scoped to a user, notices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import (
    BureauMembership,
    Jurisdiction,
    ManagerProfile,
    User,
)
from accounts.roles import Role, roles_of
from accounts.selectors import employed_by

from .models import (
    AnnualFiling,
    ConductRecord,
    CreditEntry,
    FilingExtension,
    FilingProof,
    FilingWindow,
    Notice,
    RegistryStatus,
    ReviewEvent,
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
    codes = [code for code in jurisdiction.path.split("/") if code]
    own = (
        FilingWindow.objects.filter(year=year, jurisdiction__code__in=codes)
        .select_related("jurisdiction")
        .order_by("-jurisdiction__path")
        .first()
    )
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


def current_filing_year(*, manager: ManagerProfile, today: dt.date) -> int:
    """The year a manager is filing for now: last year's until its deadline has passed (the
    window is in this year's first quarter), this year's after that."""
    if today <= deadline_for(manager=manager, year=today.year - 1).last_day:
        return today.year - 1
    return today.year


def deadline_for(*, manager: ManagerProfile, year: int) -> Deadline:
    return Deadline(
        window=window_for(jurisdiction=manager.jurisdiction, year=year),
        extension=FilingExtension.objects.filter(manager=manager, year=year).first(),
    )


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


def filing_detail(filing: AnnualFiling) -> AnnualFiling:
    """The filing with its current proofs, all proofs (history) and events, in three queries."""
    return (
        AnnualFiling.objects.select_related("manager", "firm", "jurisdiction")
        .prefetch_related(
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
        )
        .get(pk=filing.pk)
    )


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
    """The firm's filings (default: those awaiting it), with what the list shows, one query."""
    qs = filing_list_for(user=user)
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


def bureau_reviewers(*, jurisdiction: Jurisdiction) -> QuerySet[User]:
    """Staff to notify of a filing awaiting the bureau: those of the nearest jurisdiction (the
    filing's own, else up the tree) that has staff, so a province is not flooded."""
    codes = [code for code in jurisdiction.path.split("/") if code]
    nearest = (
        BureauMembership.objects.filter(jurisdiction__code__in=codes)
        .order_by("-jurisdiction__path")
        .values_list("jurisdiction_id", flat=True)
        .first()
    )
    if nearest is None:
        return User.objects.none()
    return User.objects.filter(bureau_membership__jurisdiction_id=nearest, is_active=True)


def firm_reviewers(*, firm_id: int) -> QuerySet[User]:
    """Everyone who reviews for the firm (its administrators review too)."""
    return User.objects.filter(firm_membership__firm_id=firm_id, is_active=True)


# --- notices ---------------------------------------------------------------------------------


def notice_list_for(*, user: User) -> QuerySet[Notice]:
    if not user.is_authenticated:
        return Notice.objects.none()
    return Notice.objects.filter(recipient=user)


def jurisdiction_notice_list_for(*, user: User) -> QuerySet[Notice]:
    """Notices bureau staff may audit (the admin): those to the managers and firm staff of
    their jurisdiction and below, with whether each e-mail went out."""
    qs = Notice.objects.select_related("recipient")
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    roles = roles_of(user)
    if roles.role != Role.BUREAU:
        return qs.none()
    path = roles.jurisdiction.path
    return qs.filter(
        Q(recipient__manager_profile__jurisdiction__path__startswith=path)
        | Q(recipient__firm_membership__firm__jurisdiction__path__startswith=path)
    )


def unread_notice_count(*, user: User) -> int:
    if not user.is_authenticated:
        return 0
    return Notice.objects.filter(recipient=user, read_at__isnull=True).count()


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
    *, manager: ManagerProfile, conduct: QuerySet[ConductRecord], entries: bool = True
) -> CreditRecord:
    """The statuses by year (newest first), the changes (if `entries`) and the conduct records
    of `conduct` (already scoped to the reader) of one manager: three queries."""
    return CreditRecord(
        statuses=list(RegistryStatus.objects.filter(manager=manager).order_by("-year")),
        entries=list(CreditEntry.objects.filter(manager=manager).select_related("actor")[:200])
        if entries
        else [],
        conduct=list(conduct.filter(manager=manager).order_by("-occurred_on", "-pk")),
    )


def public_credit_record(*, manager: ManagerProfile) -> CreditRecord:
    """What the public sees (公示): the statuses and the public conduct records in force."""
    today = timezone.localdate()
    conduct = ConductRecord.objects.filter(in_force_between(today, today), public=True)
    return credit_record_for(manager=manager, conduct=conduct, entries=False)


def public_manager_lookup(*, number: str) -> ManagerProfile | None:
    """A registered manager by exact registration number, for the public lookup (公示)."""
    number = "".join(number.split()).upper()
    if not number:
        return None
    return (
        ManagerProfile.objects.filter(registration_number=number, completed_at__isnull=False)
        .select_related("jurisdiction")
        .first()
    )


def with_latest_status(
    managers: QuerySet[ManagerProfile], *, status: str = ""
) -> QuerySet[ManagerProfile]:
    """Managers annotated with the status and year of their latest decided year (one query
    for a whole page: two correlated subqueries), optionally only those with that status."""
    latest = RegistryStatus.objects.filter(manager=OuterRef("pk")).order_by("-year")
    qs = managers.annotate(
        latest_status=Subquery(latest.values("status")[:1]),
        latest_status_year=Subquery(latest.values("year")[:1]),
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
