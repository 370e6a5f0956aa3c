"""Triage in the bureau's filing list (the admin of `AnnualFiling`), kept apart from the list's
own code in `admin.py` as one mixin: the risk column and its filters, how long the firm took,
the assignment to an official and "my queue", extensions to many managers at once, and
"approve every filing without a risk flag" as a background job with a progress page and a
result per filing (.xlsx). Everything goes through `triage` (services with the actor)."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import F
from django.http import HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext, pgettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.selectors import manager_list_for
from core.errors import DomainError
from core.exports import Column, xlsx_response

from . import selectors, triage
from .display import short_time
from .forms import AssignForm, BulkExtensionForm
from .models import AnnualFiling, BulkApprovalItem, BulkApprovalJob, ProofMark

#: Short labels of the risk flags for the list's column (the full label is the tooltip): the
#: list must fit 1280 px beside the navigation and the filters.
RISK_SHORT = {
    "risk_hours_short": pgettext_lazy("risk flag", "hours"),
    "risk_ce_uploaded": pgettext_lazy("risk flag", "CE upload"),
    "risk_resubmitted": pgettext_lazy("risk flag", "resubmit"),
    "risk_duplicate": pgettext_lazy("risk flag", "duplicate"),
}


class RiskFilter(admin.SimpleListFilter):
    title = _("risk")
    parameter_name = "risk"

    def lookups(self, request, model_admin):
        return [
            ("none", _("No risk flag")),
            ("any", _("Any risk flag")),
            *((name.removeprefix("risk_"), label) for name, label in triage.RISK_FLAGS),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.exclude(triage.any_risk())
        if value == "any":
            return queryset.filter(triage.any_risk())
        if value and f"risk_{value}" in triage.RISK_NAMES:
            return queryset.filter(**{f"risk_{value}": True})
        return queryset


class FirmTookFilter(admin.SimpleListFilter):
    """How long the firm took over the latest submission (submitted → forwarded)."""

    title = _("firm review took")
    parameter_name = "firm_took"

    def lookups(self, request, model_admin):
        return [
            ("day", _("Under a day")),
            ("week", _("1 to 7 days")),
            ("over7", _("More than 7 days")),
            ("over30", _("More than 30 days")),
        ]

    def queryset(self, request, queryset):
        day = dt.timedelta(days=1)
        forwarded = queryset.filter(firm_approved_at__isnull=False)
        value = self.value()
        if value == "day":
            return forwarded.filter(firm_approved_at__lt=F("submitted_at") + day)
        if value == "week":
            return forwarded.filter(
                firm_approved_at__gte=F("submitted_at") + day,
                firm_approved_at__lte=F("submitted_at") + 7 * day,
            )
        if value == "over7":
            return forwarded.filter(firm_approved_at__gt=F("submitted_at") + 7 * day)
        if value == "over30":
            return forwarded.filter(firm_approved_at__gt=F("submitted_at") + 30 * day)
        return queryset


class AssignedFilter(admin.SimpleListFilter):
    title = _("assigned")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", _("To me (my queue)")), ("nobody", _("To nobody"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assigned_to=request.user)
        if self.value() == "nobody":
            return queryset.filter(assigned_to__isnull=True)
        return queryset


def _firm_days(filing: AnnualFiling) -> float | str:
    days = triage.firm_review_days(filing)
    return "" if days is None else round(days, 1)


class TriageAdminMixin:
    """Mixed into `AnnualFilingAdmin` (before its other bases)."""

    change_list_template = "admin/registry/annualfiling/change_list.html"
    TRIAGE_ACTIONS = ["approve_unflagged", "assign_filings", "extend_managers"]

    # --- the list ---------------------------------------------------------------------------

    def get_queryset(self, request):
        # Annotations of stored columns: they survive a `select_related(None)`, `.only()` or
        # `.defer()` after, and cost no join or subquery.
        return triage.with_risk(super().get_queryset(request))

    def get_xlsx_columns(self, request):
        """The filing export with what the triage shows: the risk flags and how long the firm
        took (the firm's own export has neither: they are the bureau's)."""
        separator = gettext("; ")
        return [
            *super().get_xlsx_columns(request),
            Column(_("risk flags"), lambda f: separator.join(triage.risk_labels(f)), width=40),
            Column(_("firm took (days)"), _firm_days, width=12),
        ]

    def get_list_display(self, request):
        # No column more: the list must fit 1280 px beside the navigation and the filters. The
        # risk flags go under the manager's name, the firm's time under the forwarding time,
        # the assignee on the filing's page and in the "assigned" filter.
        columns = list(super().get_list_display(request))
        if "manager_name" in columns:
            columns[columns.index("manager_name")] = "manager_and_risk"
        else:
            columns.append("risk")
        if "forwarded" in columns:
            columns[columns.index("forwarded")] = "forwarded_took"
        else:
            columns.append("firm_took")
        return columns

    def get_list_filter(self, request):
        return [
            *super().get_list_filter(request),
            RiskFilter,
            FirmTookFilter,
            AssignedFilter,
        ]

    @admin.display(description=_("risk"))
    def risk(self, obj):
        flags = [
            (triage.RISK_LABELS[n], RISK_SHORT[n]) for n in triage.RISK_NAMES if getattr(obj, n)
        ]
        if not flags:
            return "—"
        return format_html_join("", '<span class="risk-flag" title="{}">⚠{}</span>', flags)

    @admin.display(description=_("manager"), ordering="manager__real_name")
    def manager_and_risk(self, obj):
        """The list's own manager column, with the filing's risk flags under it."""
        flags = self.risk(obj)
        if flags == "—":
            return self.manager_name(obj)
        return format_html('{}<div class="risk-flags">{}</div>', self.manager_name(obj), flags)

    @admin.display(description=_("firm took"), ordering="firm_approved_at")
    def firm_took(self, obj):
        days = triage.firm_review_days(obj)
        if days is None:
            return "—"
        if days < 1:
            return _("under a day")
        n = int(days)
        return ngettext("%(n)d day", "%(n)d days", n) % {"n": n}

    @admin.display(description=_("forwarded by the firm"), ordering="firm_approved_at")
    def forwarded_took(self, obj):
        """The forwarding time (as the list's own column) and, under it, how long it took."""
        if not obj.firm_approved_at:
            return "—"
        return format_html(
            '{}<br><span class="firm-took">{}</span>',
            short_time(obj.firm_approved_at),
            pgettext("firm review", "took %(time)s") % {"time": self.firm_took(obj)},
        )

    def changelist_view(self, request, extra_context=None):
        extra = {
            "triage_query": request.GET.urlencode(),
            "my_queue_query": "?assigned=me&status=awaiting_bureau",
            "open_jobs": BulkApprovalJob.objects.filter(created_by=request.user)
            .exclude(state=BulkApprovalJob.State.DONE)
            .order_by("-pk")[:3],
        }
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {}
        if request.method == "GET":
            extra["assign_form"] = AssignForm(staff=triage.assignable_staff(actor=request.user))
            filing = self.get_object(request, object_id)
            extra["risk_flags"] = triage.stored_risk_labels(filing) if filing else []
            extra["firm_took"] = self.firm_took(filing) if filing else ""
            # Marks come with returns: a filing never returned has none (no query).
            extra["marks_history"] = (
                ProofMark.objects.filter(filing=filing).order_by("-created_at", "pk")
                if filing is not None and filing.return_count
                else []
            )
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    # --- actions ----------------------------------------------------------------------------

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.has_change_permission(request):
            for name in self.TRIAGE_ACTIONS:
                actions[name] = self.get_action(name)
        return actions

    @admin.action(description=_("Approve those without a risk flag, in the background"))
    def approve_unflagged(self, request, queryset):
        return self._start_bulk_approval(request, queryset, query="")

    @admin.action(description=_("Assign to an official…"))
    def assign_filings(self, request, queryset):
        staff = triage.assignable_staff(actor=request.user)
        form = AssignForm(request.POST if "apply" in request.POST else None, staff=staff)
        if form.is_valid():
            self._assign(request, queryset, form.cleaned_data["assignee"])
            return None
        return TemplateResponse(
            request,
            "admin/registry/annualfiling/assign.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Assign filings to an official"),
                "filings": queryset.select_related("manager"),
                "form": form,
                "opts": self.opts,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description=_("Extend the deadline of these managers…"))
    def extend_managers(self, request, queryset):
        numbers = sorted(
            set(queryset.values_list("manager__registration_number", flat=True)) - {None, ""}
        )
        years = sorted(set(queryset.values_list("year", flat=True)))
        form = BulkExtensionForm(
            initial={"numbers": "\n".join(numbers), "year": years[-1] if years else None}
        )
        return self._extension_page(request, form)

    # --- views ------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "bulk-approve/",
                view(self.bulk_approve_view),
                name="registry_annualfiling_bulk_approve",
            ),
            path(
                "bulk-approvals/<int:job>/",
                view(self.bulk_job_view),
                name="registry_annualfiling_bulk_job",
            ),
            path(
                "bulk-approvals/<int:job>/result.xlsx",
                view(self.bulk_job_result),
                name="registry_annualfiling_bulk_result",
            ),
            path(
                "bulk-approvals/<int:job>/continue/",
                view(self.bulk_job_continue),
                name="registry_annualfiling_bulk_continue",
            ),
            path(
                "<int:pk>/assign/",
                view(self.assign_view),
                name="registry_annualfiling_assign",
            ),
            path(
                "extensions/",
                view(self.extensions_view),
                name="registry_annualfiling_extensions",
            ),
            *super().get_urls(),
        ]

    def _changelist(self):
        return reverse("admin:registry_annualfiling_changelist")

    def bulk_approve_view(self, request):
        """The list's button: the filings of the list as filtered (the posted query), all
        pages, without a risk flag, approved in the background."""
        if request.method != "POST" or not self.has_change_permission(request):
            return HttpResponseRedirect(self._changelist())
        query = request.POST.get("query", "")
        request.GET = QueryDict(query)
        try:
            queryset = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(self._changelist())
        return self._start_bulk_approval(request, queryset, query=query)

    def _start_bulk_approval(self, request, queryset, *, query: str):
        try:
            job, started = triage.bulk_approval_start(
                actor=request.user, filings=queryset, query=query
            )
        except DomainError as exc:
            for message in exc.messages:
                self.message_user(request, message, messages.ERROR)
            return HttpResponseRedirect(self._changelist())
        if not started:
            self.message_user(
                request, _("This approval is already running; here is its progress."), messages.INFO
            )
        return HttpResponseRedirect(reverse("admin:registry_annualfiling_bulk_job", args=[job.pk]))

    def bulk_job_view(self, request, job):
        job = triage.bulk_approval_get_for(user=request.user, pk=job)
        counts = triage.bulk_approval_counts(job)
        Outcome = BulkApprovalItem.Outcome
        done = job.total - counts[Outcome.PENDING]
        return TemplateResponse(
            request,
            "admin/registry/annualfiling/bulk_job.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Approval of the filings without a risk flag"),
                "opts": self.opts,
                "job": job,
                "done": done,
                "percent": int(100 * done / job.total) if job.total else 100,
                "approved": counts[Outcome.APPROVED],
                "skipped": counts[Outcome.SKIPPED],
                "changed": counts[Outcome.CHANGED],
                "waiting": counts[Outcome.PENDING],
                "running": job.state != BulkApprovalJob.State.DONE,
            },
        )

    def bulk_job_continue(self, request, job):
        job = triage.bulk_approval_get_for(user=request.user, pk=job)
        if request.method == "POST":
            triage.bulk_approval_resume(actor=request.user, job=job)
        return HttpResponseRedirect(reverse("admin:registry_annualfiling_bulk_job", args=[job.pk]))

    def bulk_job_result(self, request, job):
        job = triage.bulk_approval_get_for(user=request.user, pk=job)
        local = timezone.localtime(job.created_at)
        return xlsx_response(
            f"批量备案结果-{local:%Y%m%d-%H%M}.xlsx",
            [
                _("Manager"),
                _("Registration number"),
                _("Firm"),
                _("Year"),
                _("Outcome"),
                _("Why"),
            ],
            triage.bulk_approval_rows(job),
            sheet_title=str(_("Result")),
            column_widths=[14, 18, 30, 8, 24, 60],
        )

    def _assign(self, request, queryset, assignee):
        try:
            result = triage.filing_assign(actor=request.user, filings=queryset, assignee=assignee)
        except DomainError as exc:
            for message in exc.messages:
                self.message_user(request, message, messages.ERROR)
            return
        if result.assigned:
            self.message_user(
                request,
                ngettext("%(n)d filing assigned.", "%(n)d filings assigned.", result.assigned)
                % {"n": result.assigned},
                messages.SUCCESS,
            )
        for filing, why in result.refused:
            self.message_user(request, f"{filing.manager.real_name}: {why}", messages.WARNING)

    def assign_view(self, request, pk):
        """Assign one filing (the detail page's form)."""
        filing = get_object_or_404(selectors.filing_list_for(user=request.user), pk=pk)
        back = reverse("admin:registry_annualfiling_change", args=[filing.pk])
        if request.method != "POST" or not self.has_change_permission(request):
            return HttpResponseRedirect(back)
        form = AssignForm(request.POST, staff=triage.assignable_staff(actor=request.user))
        if form.is_valid():
            self._assign(
                request,
                AnnualFiling.objects.filter(pk=filing.pk),
                form.cleaned_data["assignee"],
            )
        else:
            self.message_user(request, _("Choose an official from the list."), messages.ERROR)
        return HttpResponseRedirect(back)

    def extensions_view(self, request):
        """Extensions for many managers at once, named by registration number."""
        if not self.has_change_permission(request):
            return HttpResponseRedirect(self._changelist())
        form = BulkExtensionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            managers = manager_list_for(user=request.user).filter(
                registration_number__in=data["numbers"]
            )
            found = set(managers.values_list("registration_number", flat=True))
            unknown = [n for n in data["numbers"] if n not in found]
            try:
                result = triage.filing_extensions_grant(
                    actor=request.user,
                    managers=managers,
                    year=data["year"],
                    until=data["until"],
                    reason=data["reason"],
                )
            except DomainError as exc:
                for message in exc.messages:
                    self.message_user(request, message, messages.ERROR)
                return self._extension_page(request, form)
            self._report_extensions(request, result, unknown, data["until"])
            return HttpResponseRedirect(
                reverse("admin:registry_filingextension_changelist") + f"?year={data['year']}"
            )
        return self._extension_page(request, form)

    def _report_extensions(self, request, result, unknown, until):
        granted = len(result.granted)
        if granted:
            self.message_user(
                request,
                ngettext(
                    "Deadline extended to %(date)s for %(n)d manager; each was told.",
                    "Deadline extended to %(date)s for %(n)d managers; each was told.",
                    granted,
                )
                % {"n": granted, "date": formats.date_format(until, "DATE_FORMAT")},
                messages.SUCCESS,
            )
        if result.kept:
            self.message_user(
                request,
                ngettext(
                    "%(n)d manager already had this deadline or a later one; unchanged.",
                    "%(n)d managers already had this deadline or a later one; unchanged.",
                    result.kept,
                )
                % {"n": result.kept},
                messages.INFO,
            )
        for manager, why in result.refused:
            self.message_user(request, f"{manager.real_name}: {why}", messages.WARNING)
        if unknown:
            self.message_user(
                request,
                _("Not found in your jurisdiction: %(numbers)s")
                % {"numbers": ", ".join(unknown[:50])},
                messages.WARNING,
            )

    def _extension_page(self, request, form):
        return TemplateResponse(
            request,
            "admin/registry/annualfiling/extensions.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Extend the filing deadline of several managers"),
                "opts": self.opts,
                "form": form,
            },
        )
