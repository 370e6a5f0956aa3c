"""Pages that span the apps: each role's overview, the manager's detail page and the firm's
manager list with the registry statuses. They read through the apps' selectors only."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode

from accounts import selectors as accounts_selectors
from accounts.decorators import bureau_required, firm_required, manager_required, role_required
from accounts.forms import IdNumberSearchForm
from accounts.models import Employment
from accounts.roles import Role, roles_of
from registry.models import RegistryStatus
from registry.selectors import (
    conduct_record_list_for,
    credit_record_for,
    credit_summary_for,
    current_filing_year,
    manager_years,
    sees_all_reasons,
    status_counts_for,
    with_latest_status,
)
from training.selectors import compliance_for

from .filters import FirmManagerFilter


def _year_asked(request, default: int) -> int:
    try:
        year = int(request.GET.get("year", default))
    except ValueError:
        return default
    return year if 2000 <= year <= timezone.localdate().year + 1 else default


@manager_required
def manager_dashboard(request):
    profile = roles_of(request.user).manager_profile
    # The year being filed (last year's in the first quarter, until its deadline): the same
    # default as the hours and filing pages (`current_filing_year`); ?year= switches.
    today = timezone.localdate()
    in_view = current_filing_year(manager=profile, today=today)
    year = _year_asked(request, in_view)
    # The current employment and the offers waiting for him, in one query.
    employments = list(
        accounts_selectors.employment_list_for(user=request.user).filter(
            status__in=[Employment.Status.ACTIVE, Employment.Status.OFFERED]
        )
    )
    return render(
        request,
        "overview/manager_dashboard.html",
        {
            "profile": profile,
            "year": year,
            "years": sorted(manager_years(manager=profile) | {in_view, year}, reverse=True),
            "compliance": compliance_for(manager=profile, year=year),
            "credit": credit_summary_for(
                manager=profile,
                conduct=conduct_record_list_for(user=request.user),
                full_reasons=True,  # his own
            ),
            "employment": next(
                (e for e in employments if e.status == Employment.Status.ACTIVE), None
            ),
            "pending_offers": [e for e in employments if e.status == Employment.Status.OFFERED],
        },
    )


@firm_required
def firm_dashboard(request):
    roles = roles_of(request.user)
    return render(
        request,
        "overview/firm_dashboard.html",
        {"firm": roles.firm, "counts": accounts_selectors.firm_dashboard_counts(firm=roles.firm)},
    )


@firm_required
def firm_managers(request):
    firm = roles_of(request.user).firm
    filters = FirmManagerFilter(
        request.GET or None,
        queryset=with_latest_status(accounts_selectors.firm_current_managers(firm=firm)),
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
