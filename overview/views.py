"""Pages that span the apps: each role's overview, the manager's detail page and the firm's
manager list with the registry statuses. They read through the apps' selectors only."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import selectors as accounts_selectors
from accounts.access import employment_actions
from accounts.decorators import bureau_required, firm_required, manager_required, role_required
from accounts.exports import manager_columns
from accounts.forms import IdNumberSearchForm
from accounts.models import Employment
from accounts.roles import Role, page_identity, roles_of
from core.exports import Column, xlsx_export
from core.pagecache import kept_page
from credit import selectors as credit_selectors
from credit.models import CreditScore, SupervisionEntry
from credit.selectors import grade_counts, grade_for, supervision_entries_active, with_credit
from registry.models import AnnualFiling, RegistryStatus
from registry.selectors import (
    conduct_record_list_for,
    credit_record_for,
    current_filing_year,
    manager_years,
    public_credit_record,
    public_revoked_filings,
    sees_all_reasons,
    status_counts_for,
    status_summary_for,
    with_latest_status,
)
from training.selectors import compliance_for

from . import dashboard
from .filters import FirmManagerFilter

#: The first year a page may be asked for (?year=).
YEARS_FROM = 2000


def _year_asked(request, default: int) -> int:
    try:
        year = int(request.GET.get("year", default))
    except ValueError:
        return default
    return year if YEARS_FROM <= year <= timezone.localdate().year + 1 else default


@manager_required
def manager_dashboard(request):
    # Kept rendered until his data changes (core.pagecache): the page managers open most.
    years = range(YEARS_FROM, timezone.localdate().year + 2)
    return kept_page(
        request,
        "overview:manager_dashboard",
        page_identity(request.user),
        lambda: _manager_dashboard(request),
        queries={f"year={year}" for year in years},
    )


def _manager_dashboard(request) -> tuple[str, dict]:
    profile = roles_of(request.user).manager_profile
    # The year being filed (last year's in the first quarter, until its deadline): the same
    # default as the hours and filing pages (`current_filing_year`); ?year= switches.
    today = timezone.localdate()
    in_view = current_filing_year(manager=profile, today=today)
    year = _year_asked(request, in_view)
    # The current employment and the offers waiting for him, in one query.
    employments = accounts_selectors.open_employments_of(manager=profile)
    return (
        "overview/manager_dashboard.html",
        {
            "profile": profile,
            "year": year,
            "years": sorted(manager_years(manager=profile) | {in_view, year}, reverse=True),
            "compliance": compliance_for(manager=profile, year=year),
            "credit": status_summary_for(manager=profile),  # his own
            "employment": next(
                (e for e in employments if e.status == Employment.Status.ACTIVE), None
            ),
            "pending_offers": [e for e in employments if e.status == Employment.Status.OFFERED],
        },
    )


@firm_required
def firm_dashboard(request):
    roles = roles_of(request.user)
    grades = grade_counts(
        CreditScore.objects.filter(
            latest=True, manager__in=accounts_selectors.firm_current_managers(firm=roles.firm)
        )
    )
    graded = sum(grades.values())
    return render(
        request,
        "overview/firm_dashboard.html",
        {
            "firm": roles.firm,
            "counts": accounts_selectors.firm_dashboard_counts(firm=roles.firm),
            # The share of the firm's current managers at each current grade.
            "grades": [
                (grade, n, round(100 * n / graded, 1) if graded else 0)
                for grade, n in grades.items()
            ],
            "graded": graded,
        },
    )


@firm_required
def employment_review(request, pk):
    """Before confirming a new employment: the person's public credit record (the statuses
    with their public reasons, public conduct records in force, revoked filings), the current
    grade and any key-supervision entry (public reason and period), with the decision."""
    employment = accounts_selectors.employment_get_for(user=request.user, pk=pk)
    manager = employment.manager
    return render(
        request,
        "overview/employment_review.html",
        {
            "employment": employment,
            "manager": manager,
            "actions": employment_actions(user=request.user, employment=employment),
            "record": public_credit_record(manager=manager),
            "grade": grade_for(manager=manager),
            "entries": supervision_entries_active(SupervisionEntry.objects.filter(manager=manager)),
            "revoked": public_revoked_filings(manager=manager),
        },
    )


@firm_required
def firm_managers(request):
    firm = roles_of(request.user).firm
    filters = FirmManagerFilter(
        request.GET or None,
        queryset=with_credit(
            with_latest_status(accounts_selectors.firm_current_managers(firm=firm))
        ),
    )
    managers = filters.qs
    if filters.refused_id_number:
        messages.warning(request, filters.form.errors["q"][0])
        managers = managers.none()
    valid = filters.is_bound and filters.form.is_valid()
    search = filters.form.cleaned_data.get("q", "") if valid else ""
    status = filters.form.cleaned_data.get("status", "") if valid else ""
    page = Paginator(managers, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "overview/firm_manager_list.html",
        {
            "firm": firm,
            "form": filters.form,
            "page": page,
            "search": search,
            "status": status,
            "statuses": RegistryStatus.Status.choices,
            "query": urlencode({k: v for k, v in (("q", search), ("status", status)) if v}),
            "id_form": IdNumberSearchForm(),
        },
    )


def _latest_status_text():
    """The latest registry status as the firm's list shows it (a status abnormal only for
    reasons kept from the public reads "ask the bureau"), the labels translated once."""
    labels = {value: str(label) for value, label in RegistryStatus.Status.choices}
    ask_bureau = gettext("Abnormal — ask the bureau")

    def text(manager) -> str:
        if not manager.latest_status:
            return ""
        label = ask_bureau if manager.latest_status_ask_bureau else labels[manager.latest_status]
        return f"{manager.latest_status_year} {label}"

    return text


@firm_required
def firm_managers_export(request):
    """The firm's managers as filtered on screen, as .xlsx (ID numbers masked)."""
    firm = roles_of(request.user).firm
    filters = FirmManagerFilter(
        request.GET or None,
        queryset=with_latest_status(accounts_selectors.firm_current_managers(firm=firm)),
    )
    managers = filters.qs.select_related("jurisdiction")
    if filters.refused_id_number:
        managers = managers.none()
    columns = [
        *manager_columns(full_ids=False),
        Column(_("Registry status"), _latest_status_text(), width=20),
    ]
    day = timezone.localdate().isoformat()
    return xlsx_export(gettext("property managers") + f"-{day}.xlsx", columns, managers)


@role_required(Role.MANAGER, Role.FIRM, Role.BUREAU, Role.ADMIN)
def manager_detail(request, pk):
    manager = accounts_selectors.manager_get_for(user=request.user, pk=pk)
    # Only the employments the viewer may see: a firm sees its own, not the manager's other firms.
    employments = accounts_selectors.employment_list_for(user=request.user).filter(manager=manager)
    return render(
        request,
        "overview/manager_detail.html",
        {
            "manager": manager,
            "employments": employments,
            "work_history": manager.work_history.all(),
            "compliance": compliance_for(manager=manager, year=timezone.localdate().year),
            "credit": credit_record_for(
                manager=manager,
                conduct=conduct_record_list_for(user=request.user),
                full_reasons=sees_all_reasons(user=request.user),
            ),
            "evidence_visible": roles_of(request.user).role in (Role.BUREAU, Role.ADMIN),
            # The grade and the key-supervision entries; the points explained for the manager
            # himself and the bureau only.
            "credit_file": credit_selectors.credit_summary_for(
                manager=manager, lines=sees_all_reasons(user=request.user)
            ),
        },
    )


@bureau_required
def bureau_dashboard(request):
    roles = roles_of(request.user)
    jurisdiction = roles.jurisdiction

    counts = (
        accounts_selectors.bureau_dashboard_counts(jurisdiction=jurisdiction)
        if jurisdiction
        else {}
    )
    return render(
        request,
        "overview/bureau_dashboard.html",
        {
            "jurisdiction": jurisdiction,
            "counts": counts,
            "statuses": status_counts_for(user=request.user) if jurisdiction else None,
        },
    )


# --- the bureau's dashboard --------------------------------------------------------------------


def _admin_list(name: str, **params) -> str:
    """The address of an admin list with its filters (the dashboard's links)."""
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return reverse(f"admin:{name}_changelist") + (f"?{query}" if query else "")


def _chart_data(board: dashboard.Dashboard) -> dict:
    """What the charts draw (static/js/dashboard.js), the same figures as the tables."""
    stage_labels = dict(AnnualFiling.Status.choices)
    stages = [s for s in dashboard.STAGES if s != "draft"]
    return {
        "labels": {
            **{s: str(stage_labels[s]) for s in stages},
            "not_submitted": gettext("Not submitted"),
            "submitted": gettext("Submitted at least once"),
            "compliance_rate": gettext("Compliance rate"),
            "abnormal_rate": gettext("Abnormal rate"),
            "certified_rate": gettext("Certificate-holding rate"),
            "trained_rate": gettext("Managers trained"),
        },
        "stages": stages,
        "days": {
            "x": [d["day"].isoformat() for d in board.days],
            **{s: [d[s] for d in board.days] for s in (*stages, "submitted")},
        },
        "areas": {
            "x": [a.name for a in board.areas],
            "not_submitted": [a.not_submitted for a in board.areas],
            **{s: [a.figures[s] for a in board.areas] for s in stages},
            **{
                r: [getattr(a, r) for a in board.areas]
                for r in ("compliance_rate", "abnormal_rate", "certified_rate", "trained_rate")
            },
        },
        "firms": {
            "x": [f.name for f in board.firms],
            "not_submitted": [f.not_submitted for f in board.firms],
            **{s: [f.figures[s] for f in board.firms] for s in stages},
        },
    }


@bureau_required
def bureau_statistics(request):
    """The dashboard of the official's jurisdiction (or an area under it, ?area=) for a year:
    read-only, from the figures computed each night (overview/dashboard.py)."""
    today = timezone.localdate()
    year = _year_asked(request, today.year - 1)
    area = None
    if request.GET.get("area", "").isdigit():
        area = get_object_or_404(
            dashboard.dashboard_areas_for(user=request.user), pk=int(request.GET["area"])
        )
    board = dashboard.dashboard_for(user=request.user, year=year, area=area)
    shown = board.jurisdiction
    here = shown.pk if shown is not None else ""
    filings = "registry_annualfiling"
    for row in board.areas:
        place = row.key.pk if row.key is not None else here
        row.links = {
            "filings": _admin_list(filings, year__exact=year, county=place),
            **{
                s: _admin_list(filings, year__exact=year, status__exact=s, county=place)
                for s in dashboard.STAGES
            },
            "abnormal": _admin_list(
                "registry_registrystatus", year__exact=year, status__exact="abnormal", county=place
            ),
            "training": _admin_list(
                "training_studyrecord",
                completed_on__year=year,
                status__exact="verified",
                assessment__exact="passed",
                jurisdiction=place,
            ),
            "managers": _admin_list("accounts_managerprofile", jurisdiction=place),
            "dashboard": f"?year={year}&area={place}" if row.key is not None else "",
        }
    for row in board.firms:
        row.links = {
            "filings": _admin_list(filings, year__exact=year, firm=row.key),
            **{
                s: _admin_list(filings, year__exact=year, status__exact=s, firm=row.key)
                for s in dashboard.STAGES
            },
        }
    stages = [s for s in dashboard.STAGES if s != "draft"]
    for row in [*board.areas, *board.firms]:
        row.stage_cells = [(row.figures[s], row.links[s]) for s in stages]
    total_links = {
        "filings": _admin_list(filings, year__exact=year, county=here),
        **{
            s: _admin_list(filings, year__exact=year, status__exact=s, county=here)
            for s in dashboard.STAGES
        },
        "abnormal": _admin_list(
            "registry_registrystatus", year__exact=year, status__exact="abnormal", county=here
        ),
        "training": _admin_list(
            "training_studyrecord",
            completed_on__year=year,
            status__exact="verified",
            assessment__exact="passed",
            jurisdiction=here,
        ),
        "managers": _admin_list("accounts_managerprofile", jurisdiction=here),
        "firms": _admin_list("accounts_firm", jurisdiction=here),
    }
    return render(
        request,
        "overview/bureau_statistics.html",
        {
            "board": board,
            "year": year,
            "years": list(range(today.year, today.year - 5, -1)),
            "stage_heads": [(AnnualFiling.Status(s).label, total_links[s]) for s in stages],
            "total_cells": [(board.total.figures[s], total_links[s]) for s in stages],
            "day_rows": [(d["day"], [d[s] for s in stages], d["submitted"]) for d in board.days],
            "total_links": total_links,
            "chart_data": _chart_data(board),
        },
    )
