"""Pages of continuing education: the manager's hours, the catalogue, the firm's compliance, the
provider's reports. Thin: scoped selector, form, one service, message, redirect."""

from __future__ import annotations

from operator import itemgetter

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import bureau_required, firm_required, manager_required, role_required
from accounts.roles import Role, roles_of
from accounts.selectors import jurisdiction_list_for
from core.errors import DomainError
from core.exports import Column, xlsx_export
from core.uploads import content_disposition, serve_private_file

from . import audits, imports, pdf, reports, selectors, services
from .filters import ComplianceFilter, CourseFilter
from .forms import (
    AuditAnswerForm,
    AuditDecideForm,
    AuditDrawForm,
    ReportUploadForm,
    StudyRecordForm,
)
from .models import AuditItem, StudyRecord


def _year(request, default: int | None = None) -> int:
    default = default if default is not None else timezone.localdate().year
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = default
    return year if 2000 <= year <= 2100 else default


# --- manager -------------------------------------------------------------------------------------


@manager_required
def study_hours(request):
    manager = roles_of(request.user).manager_profile
    in_view = selectors.study_year_in_view(manager=manager, today=timezone.localdate())
    year = _year(request, default=in_view)
    # The year's records, and (for the audit card) those of other years still under an open
    # audit, each with its audit if it has one: one query.
    rows = list(
        selectors.study_record_list_for(user=request.user)
        .select_related("audit")
        .filter(Q(completed_on__year=year) | Q(audit__status__in=AuditItem.OPEN))
    )
    records = [record for record in rows if record.completed_on.year == year]
    audit_items = sorted(
        (record.audit for record in rows if _audit_of(record) is not None),
        key=lambda item: (item.due_on, item.pk),
    )
    # A submitted filing freezes its year: those records show locked, not 修改/删除 that the
    # service would refuse on saving. The locks and the years of the picker in one query.
    studied, locked = selectors.study_years_and_locks(manager_id=manager.pk)
    for record in records:
        record.locked_at = locked.get(record.completed_on.year)
        record.audit_item = _audit_of(record)
        record.can_change = (
            record.own_and_undecided and record.locked_at is None and record.audit_item is None
        )
    years = sorted(studied | {timezone.localdate().year, in_view, year}, reverse=True)
    return render(
        request,
        "training/study_hours.html",
        {
            "manager": manager,
            "year": year,
            "years": years,
            "records": records,
            "year_locked_at": locked.get(year),
            "audit_items": audit_items,
            "today": timezone.localdate(),
            "compliance": selectors.compliance_for(manager=manager, year=year),
        },
    )


def _audit_of(record: StudyRecord) -> AuditItem | None:
    try:
        return record.audit
    except AuditItem.DoesNotExist:
        return None


@manager_required
@require_http_methods(["GET", "POST"])
def study_record_edit(request, pk=None):
    record = selectors.study_record_get_for(user=request.user, pk=pk) if pk else None
    if record is not None and (
        not record.own_and_undecided or AuditItem.objects.filter(record_id=record.pk).exists()
    ):
        messages.error(request, _("Only your own records awaiting verification can be changed."))
        return redirect(reverse("training:study_hours") + f"?year={record.completed_on.year}")
    if record is not None and selectors.is_study_year_locked(
        manager_id=record.manager_id, year=record.completed_on.year
    ):
        messages.error(request, _("The records of a year whose filing was submitted are locked."))
        return redirect(reverse("training:study_hours") + f"?year={record.completed_on.year}")
    form = StudyRecordForm(
        request.POST or None,
        request.FILES or None,
        instance=record,
        certificate_required=record is None or not record.certificate,
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.study_record_save(
                actor=request.user,
                data=form.cleaned_data,
                certificate=form.cleaned_data.get("certificate") or None,
                record=record,
            )
        except DomainError as exc:
            form.add_error(None, exc)  # a per-field error dict lands on its fields
        else:
            if saved.status == StudyRecord.Status.ACCEPTED:
                messages.success(
                    request,
                    _("The study record was saved. It counts now, subject to a sampled audit."),
                )
            else:
                messages.success(request, _("The study record was saved. It counts once verified."))
            return redirect(reverse("training:study_hours") + f"?year={saved.completed_on.year}")
    return render(request, "training/studyrecord_form.html", {"form": form, "record": record})


@manager_required
@require_POST
def study_record_delete(request, pk):
    record = selectors.study_record_get_for(user=request.user, pk=pk)
    year = record.completed_on.year
    try:
        services.study_record_delete(actor=request.user, record=record)
    except DomainError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("The study record was deleted."))
    return redirect(reverse("training:study_hours") + f"?year={year}")


@role_required(Role.MANAGER, Role.FIRM, Role.BUREAU, Role.ADMIN)
def study_record_certificate(request, pk):
    """The certificate file, for the manager, the current firm's reviewers and the bureau."""
    record = selectors.study_record_get_for(user=request.user, pk=pk)
    if not record.certificate:
        raise Http404
    return serve_private_file(record.certificate, download_name=record.certificate_name or None)


@manager_required
def course_catalogue(request):
    courses = CourseFilter(request.GET or None, queryset=selectors.course_catalogue())
    page = Paginator(courses.qs, 30).get_page(request.GET.get("page"))
    return render(request, "training/course_catalogue.html", {"form": courses.form, "page": page})


@manager_required
def transcript_pdf(request, year):
    manager = roles_of(request.user).manager_profile
    content = pdf.transcript_pdf(manager=manager, year=year)
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(
        f"学时证明-{manager.registration_number}-{year}.pdf", inline=False
    )
    return response


# --- firm ----------------------------------------------------------------------------------------


def _compliance_query(request, *, whole: bool = False):
    firm = roles_of(request.user).firm
    filters = ComplianceFilter(request.GET or None)
    year = filters.year_of(default=timezone.localdate().year)
    data = filters.form.cleaned_data if filters.is_bound and filters.form.is_valid() else {}
    managers, rule = selectors.firm_compliance(
        firm=firm,
        year=year,
        status=data.get("status") or "",
        order=data.get("order") or "name",
        search=data.get("q") or "",
        whole=whole,
    )
    return firm, filters.form, year, managers, rule


@firm_required
def firm_compliance(request):
    firm, form, year, managers, rule = _compliance_query(request)
    page = Paginator(managers, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "training/firm_compliance.html",
        {
            "firm": firm,
            "form": form,
            "year": year,
            "page": page,
            "rule": rule,
            "querystring": query.urlencode(),
        },
    )


@firm_required
def firm_compliance_export(request):
    """The compliance list as filtered on screen, as .xlsx (the one exporter, core.exports)."""
    firm, form, year, managers, rule = _compliance_query(request, whole=True)

    def figure(value):
        return float(value) if value is not None else None

    req_year = figure(rule.annual_minimum) if rule else None
    req_cycle = figure(rule.cycle_minimum) if rule else None
    compliant, short, no_rule = _("Compliant"), _("Hours short"), _("No hours rule")
    columns = [
        Column(gettext_lazy("real name"), itemgetter("real_name"), width=12),
        Column(gettext_lazy("registration number"), itemgetter("registration_number"), width=18),
        Column(gettext_lazy("Hours counted this year"), lambda m: figure(m["hours_year"])),
        Column(gettext_lazy("Hours required this year"), lambda m: req_year),
        Column(
            gettext_lazy("Hours counted in the cycle"),
            lambda m: figure(m["hours_cycle"]) if req_cycle is not None else None,
        ),
        Column(gettext_lazy("Hours required in the cycle"), lambda m: req_cycle),
        Column(gettext_lazy("Hours still needed"), lambda m: figure(m["hours_needed"])),
        Column(
            gettext_lazy("Status"),
            lambda m: (compliant if m["compliant"] else short) if rule else no_rule,
        ),
    ]
    # Plain values, not model instances: a firm's whole list, read in one pass.
    values = managers.values(
        "real_name", "registration_number", "hours_year", "hours_cycle", "hours_needed", "compliant"
    )
    return xlsx_export(
        _("Study hours compliance") + f"-{year}.xlsx",
        columns,
        values,
        sheet_title=_("%(year)s hours") % {"year": year},
    )


# --- provider ------------------------------------------------------------------------------------


@role_required(Role.PROVIDER)
@require_http_methods(["GET", "POST"])
def provider_dashboard(request):
    provider = roles_of(request.user).provider_staff.provider
    form = ReportUploadForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = reports.provider_report_upload(
                actor=request.user, content=upload.read(), file_name=upload.name
            )
        except DomainError as exc:
            form.add_error("file", exc)
        else:
            if result.queued:
                messages.info(
                    request,
                    _(
                        "The file has %(rows)s rows: it is being imported in the background. "
                        "Its progress is shown below."
                    )
                    % {"rows": result.report.row_count},
                )
                return redirect("training:provider_dashboard")
            if result.already_imported and result.already_imported.in_progress:
                messages.warning(request, _("This file is already being imported."))
                return redirect("training:provider_dashboard")
            if result.already_imported:
                when = timezone.localtime(result.already_imported.created_at)
                messages.warning(
                    request,
                    _("This file was already imported on %(date)s; nothing was added.")
                    % {"date": when.strftime("%Y-%m-%d %H:%M")},
                )
                return redirect("training:provider_dashboard")
            if result.ok:
                messages.success(
                    request,
                    _(
                        "Imported: %(created)s new records, %(updated)s updated, %(dup)s already recorded."
                    )
                    % {
                        "created": result.created,
                        "updated": result.updated,
                        "dup": result.duplicates,
                    },
                )
                _lane_messages(request, pending=result.pending, skipped=len(result.skipped))
                return redirect("training:provider_dashboard")
    recent = list(selectors.provider_report_list_for(user=request.user)[:50])
    return render(
        request,
        "training/provider_dashboard.html",
        {
            "provider": provider,
            "form": form,
            "result": result,
            "reports": recent,
            # The page refreshes itself while the worker imports a file, to show its progress.
            "refresh": any(r.in_progress for r in recent),
        },
    )


def _lane_messages(request, *, pending: int, skipped: int) -> None:
    if pending:
        messages.info(
            request,
            _(
                "%(n)s of these records are of managers outside the jurisdiction that approved "
                "your institution: they count once the manager's bureau accepts them."
            )
            % {"n": pending},
        )
    if skipped:
        messages.warning(
            request,
            _(
                "%(n)s rows were left unchanged (a record the bureau has decided, or a year "
                "already filed). The list of problems says which."
            )
            % {"n": skipped},
        )


@role_required(Role.PROVIDER)
def provider_template(request):
    response = HttpResponse(
        imports.template_workbook(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = content_disposition("学时上报模板.xlsx", inline=False)
    return response


@role_required(Role.PROVIDER, Role.BUREAU, Role.ADMIN)
def provider_report_errors(request, pk):
    report = selectors.provider_report_get_for(user=request.user, pk=pk)
    # A BOM so that Excel opens the Chinese text correctly.
    response = HttpResponse("\ufeff" + report.error_report, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition(f"问题清单-{report.pk}.csv", inline=False)
    return response


# --- sampled audits ------------------------------------------------------------------------------


@manager_required
@require_http_methods(["GET", "POST"])
def audit_answer(request, pk):
    """The sampled manager's page for one audited record: what is asked, by when, the evidence."""
    item = selectors.audit_item_get_for(user=request.user, pk=pk)
    form = AuditAnswerForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            audits.audit_answer(
                actor=request.user,
                item=item,
                answer=form.cleaned_data["answer"],
                evidence=form.cleaned_data.get("evidence") or None,
            )
        except DomainError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, _("Your evidence was sent. The bureau will decide on the record.")
            )
            return redirect(
                reverse("training:study_hours") + f"?year={item.record.completed_on.year}"
            )
    return render(
        request,
        "training/audit_answer.html",
        {
            "item": item,
            "form": form,
            "can_answer": item.is_open and timezone.localdate() <= item.due_on,
        },
    )


@role_required(Role.MANAGER, Role.BUREAU, Role.ADMIN)
def audit_evidence(request, pk):
    """The evidence file, for the manager and the bureau staff who see the audit."""
    item = selectors.audit_item_get_for(user=request.user, pk=pk)
    if not item.evidence:
        raise Http404
    return serve_private_file(item.evidence, download_name=item.evidence_name or None)


def _bureau_year(request) -> int:
    return _year(request, default=timezone.localdate().year)


@bureau_required
def audit_overview(request):
    """The bureau's audits of a year: figures per county, the draws, a new draw."""
    year = _bureau_year(request)
    today = timezone.localdate()
    roles = roles_of(request.user)
    stats = selectors.audit_stats_for(user=request.user, year=year, today=today)
    keys = ("drawn", "answered", "upheld", "rejected", "expired", "open", "overdue")
    totals = {key: sum(row[key] for row in stats) for key in keys}
    draws = list(selectors.audit_draw_list_for(user=request.user).filter(year=year)[:20])
    jurisdictions = jurisdiction_list_for(user=request.user).order_by("path")
    form = AuditDrawForm(
        initial={"jurisdiction": roles.jurisdiction, "year": year}, jurisdictions=jurisdictions
    )
    return render(
        request,
        "training/audit_overview.html",
        {
            "year": year,
            "years": range(today.year, today.year - 4, -1),
            "stats": stats,
            "totals": totals,
            "draws": draws,
            "form": form,
            "policy": selectors.audit_policy_for(jurisdiction=roles.jurisdiction),
        },
    )


@bureau_required
@require_POST
def audit_draw(request):
    jurisdictions = jurisdiction_list_for(user=request.user)
    form = AuditDrawForm(request.POST, jurisdictions=jurisdictions)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("training:audit_overview")
    data = form.cleaned_data
    try:
        draw = audits.audit_draw(
            actor=request.user,
            jurisdiction=data["jurisdiction"],
            year=data["year"],
            seed=data["seed"],
            percent=data["percent"],
        )
    except DomainError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(reverse("training:audit_overview") + f"?year={data['year']}")
    messages.success(
        request,
        _("Drawn: %(sampled)s of %(population)s records (seed %(seed)s).")
        % {"sampled": draw.sampled_count, "population": draw.population_count, "seed": draw.seed},
    )
    return redirect(reverse("training:audit_item_list") + f"?year={draw.year}&draw={draw.pk}")


@bureau_required
def audit_item_list(request):
    """The audited records of a year, to decide: filtered by status and by draw."""
    year = _bureau_year(request)
    items = selectors.audit_item_list_for(user=request.user).filter(draw__year=year)
    status = request.GET.get("status", "")
    if status == "overdue":
        items = items.filter(status=AuditItem.Status.REQUESTED, due_on__lt=timezone.localdate())
    elif status in AuditItem.Status.values:
        items = items.filter(status=status)
    draw = request.GET.get("draw", "")
    if draw.isdigit():
        items = items.filter(draw_id=int(draw))
    page = Paginator(items.order_by("status", "due_on", "pk"), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "training/audit_item_list.html",
        {
            "year": year,
            "page": page,
            "status": status,
            "statuses": AuditItem.Status.choices,
            "querystring": query.urlencode(),
        },
    )


@bureau_required
def audit_item_detail(request, pk):
    item = selectors.audit_item_get_for(user=request.user, pk=pk)
    return render(
        request,
        "training/audit_item_detail.html",
        {"item": item, "record": item.record, "form": AuditDecideForm()},
    )


@bureau_required
@require_POST
def audit_item_decide(request, pk):
    item = selectors.audit_item_get_for(user=request.user, pk=pk)
    form = AuditDecideForm(request.POST)
    if form.is_valid():
        try:
            audits.audit_decide(
                actor=request.user,
                item=item,
                upheld=form.cleaned_data["decision"] == "upheld",
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            if (
                getattr(exc, "code", None) == "state"
            ):  # another official decided first: say who, change nothing
                for message in exc.messages:
                    messages.warning(request, message)
                return redirect("training:audit_item_detail", pk=item.pk)
            form.add_error(None, exc)
        else:
            messages.success(request, _("The decision was recorded; the manager is told."))
            return redirect("training:audit_item_detail", pk=item.pk)
    return render(
        request,
        "training/audit_item_detail.html",
        {"item": item, "record": item.record, "form": form},
        status=400,
    )
