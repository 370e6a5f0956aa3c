"""Bureau staff review filings here: the list of their jurisdiction's filings with filters and
search, the detail with snapshot, proofs, compliance and history, approve and return (as
actions and as buttons), windows and extensions. Everything goes through the scoped selectors
and the workflow services."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.admin import (
    BureauScopedAdmin,
    JurisdictionListFilter,
    ManagerJurisdictionFilter,
    ReadOnlyAdminMixin,
    ReviewOnlyAdminMixin,
    XlsxExportAdmin,
    reason_page,
)
from accounts.forms import ReasonForm
from accounts.models import Firm, ManagerProfile
from accounts.roles import roles_of
from accounts.selectors import firm_list_for, jurisdiction_list_for, manager_list_for
from core.errors import DomainError
from core.uploads import PrivateFileField
from training.selectors import compliance_for

from . import exports, selectors, services
from .admin_triage import TriageAdminMixin
from .display import short_time, snapshot_compliance, snapshot_rows
from .forms import ReturnForm
from .models import (
    AnnualFiling,
    ConductRecord,
    CreditEntry,
    FilingExtension,
    FilingWindow,
    RegistryStatus,
)


class FilingJurisdictionFilter(JurisdictionListFilter):
    """The county of a filing or a registry status (both carry the deciding jurisdiction)."""

    title = _("county")
    parameter_name = "county"
    field_path = "jurisdiction__path"


class FirmFilter(admin.SimpleListFilter):
    """Firms of the official's jurisdiction only, offered once the list is of one county (the
    county filter, or a county official's own): a prefecture or province has thousands of firms,
    and a list of the first 200 by name served nobody while it cost every page of the list."""

    title = _("firm")
    parameter_name = "firm"

    def lookups(self, request, model_admin):
        county = request.GET.get("county")
        if county:
            place = jurisdiction_list_for(user=request.user).filter(pk=county).first()
        else:
            place = roles_of(request.user).jurisdiction
            if place is not None and place.level != place.Level.COUNTY:
                place = None
        if place is None:
            return []
        firms = firm_list_for(user=request.user).filter(jurisdiction__path__startswith=place.path)
        return [(f.pk, f.name) for f in firms.order_by("name")[:200]]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(firm_id=self.value())
        return queryset


class FilingYearFilter(admin.SimpleListFilter):
    """The year, offered from the last few years: listing the years that have filings would
    read every filing of a province (SELECT DISTINCT) on every page of the list."""

    title = _("year")
    parameter_name = "year"
    #: How many years back the filter offers (any year can still be asked in the address).
    YEARS = 5

    def lookups(self, request, model_admin):
        latest = timezone.localdate().year
        return [(str(year), str(year)) for year in range(latest, latest - self.YEARS, -1)]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(year=int(value))
        return queryset


def _name_matches(field: str, word: str) -> Q:
    """`field` contains `word` (its trigram index finds it), or, for a word of one or two
    characters, starts with it: a trigram index cannot look up a shorter fragment inside a
    name, but finds a name's beginning (and two characters are a whole Chinese name)."""
    lookup = "icontains" if len(word) >= 3 else "istartswith"
    return Q(**{f"{field}__{lookup}": word})


def search_by_manager(queryset, search_term: str, *, firm: bool = False):
    """The admin's search of filings or statuses, word by word (each must match): the
    manager's name (see `_name_matches`) or registration number (exact) and, with `firm`, the
    firm's name (contains).

    Each word becomes `pk IN (rows of those managers UNION ALL rows of those firms)`: index
    lookups whose few rows the planner foresees. (Given an OR of two subqueries instead, it
    expects half the province to match and walks the whole list in order to find them.)"""
    model = queryset.model
    for word in smart_split(search_term):
        if word[0] in "\"'" and word[-1] == word[0]:
            word = unescape_string_literal(word)
        if not word:
            continue
        managers = ManagerProfile.objects.filter(
            _name_matches("real_name", word) | Q(registration_number=word.upper())
        ).values("pk")
        matching = model._default_manager.filter(manager__in=managers).values("pk")
        if firm:
            # A few thousand firms: their names are searched inside, whatever the length.
            firms = Firm.objects.filter(name__icontains=word).values("pk")
            matching = matching.union(
                model._default_manager.filter(firm__in=firms).values("pk"), all=True
            )
        queryset = queryset.filter(pk__in=matching)
    return queryset


def _report(model_admin, request, results: list[tuple[AnnualFiling, str | None]], done_msg):
    """A count of the filings changed, and one message per filing that was not (the results
    of `services.filing_decide_each`)."""
    done = [f for f, error in results if error is None]
    if done:
        model_admin.message_user(request, done_msg(len(done)), messages.SUCCESS)
    for filing, error in results:
        if error is not None:
            model_admin.message_user(
                request, f"{filing.manager.real_name} ({filing.year}): {error}", messages.WARNING
            )


@admin.register(AnnualFiling)
class AnnualFilingAdmin(TriageAdminMixin, XlsxExportAdmin, ReviewOnlyAdminMixin, BureauScopedAdmin):
    xlsx_columns = staticmethod(exports.filing_columns)  # the "export to Excel" link (core.exports)
    xlsx_defer = ("snapshot",)
    list_display = [
        "manager_name",
        "year",
        "firm",
        "jurisdiction",
        "status",
        "submitted",
        "forwarded",
    ]
    list_filter = ["status", FilingYearFilter, FilingJurisdictionFilter, FirmFilter]
    # Searched by get_search_results (indexed subqueries), with the meaning these fields give.
    search_fields = ["manager__real_name", "=manager__registration_number", "firm__name"]
    list_select_related = ["manager", "firm", "jurisdiction"]
    # 50 rows: the admin's changelist spends most of a page on its rows (README, "Performance");
    # an official works through the list by its filters and the bulk approval, not by scrolling.
    list_per_page = 50
    show_full_result_count = False  # one COUNT fewer on every page of a 50,000-row list
    actions = ["approve", "return_filings"]
    change_form_template = "admin/registry/annualfiling/change_form.html"
    ordering = ["firm_approved_at", "pk"]
    readonly_fields = [
        "manager",
        "year",
        "status",
        "firm",
        "jurisdiction",
        "round",
        "submitted_at",
        "firm_approved_at",
        "approved_at",
        "certificate_code",
        "return_reason",
        "revoked_at",
        "revoke_reason",
    ]
    fields = readonly_fields

    def scoped_queryset(self, request):
        return selectors.filing_list_for(user=request.user)

    def get_queryset(self, request):
        # What the list shows and no more: no snapshot to decode, no ID number to decrypt, no
        # manager's jurisdiction to join. (A filing's own page reads it in full again.)
        return (
            super()
            .get_queryset(request)
            .select_related(None)
            .select_related("manager", "firm", "jurisdiction")
            .defer("snapshot", "manager__id_number", "manager__id_number_hash")
        )

    def get_search_results(self, request, queryset, search_term):
        return search_by_manager(queryset, search_term, firm=True), False

    def get_object(self, request, object_id, from_field=None):
        detail = getattr(request, "_filing_detail", None)
        if detail is not None and from_field is None and str(detail.pk) == str(object_id):
            return detail
        return super().get_object(request, object_id, from_field)

    @admin.display(description=_("manager"), ordering="manager__real_name")
    def manager_name(self, obj):
        # The registration number under the name: one column fewer in a list that must fit
        # 1280 px beside the navigation and the filters.
        return format_html(
            '{}<br><span class="id-number">{}</span>',
            obj.manager.real_name,
            obj.manager.registration_number or "",
        )

    # Short local times in the list: the long form is cut off at 1280 px.
    @admin.display(description=_("submitted"), ordering="submitted_at")
    def submitted(self, obj):
        return short_time(obj.submitted_at)

    @admin.display(description=_("forwarded by the firm"), ordering="firm_approved_at")
    def forwarded(self, obj):
        return short_time(obj.firm_approved_at)

    # --- the headings: bureau staff review a filing, they do not edit it ----------------------

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request, {"title": _("Annual filings"), **(extra_context or {})}
        )

    # --- the detail page ------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # get_object() answers None to an id that is not a number (as the admin's own views
        # do): /admin/.../abc/approve/ lands here as the object "abc/approve".
        filing = self.get_object(request, unquote(object_id))
        if filing is None:
            raise Http404
        if request.method == "POST":
            # Read-only: a filing changes only through the approve and return views.
            return HttpResponseRedirect(request.path)
        filing = selectors.filing_detail(filing)
        # The admin's own change view asks for the object again: it gets this one.
        request._filing_detail = filing
        extra = {
            "title": _("Review the annual filing"),
            "filing": filing,
            "snapshot_rows": snapshot_rows(filing.snapshot),
            "snapshot_compliance": snapshot_compliance(filing.snapshot),
            "current_compliance": compliance_for(manager=filing.manager, year=filing.year),
            "current_proofs": selectors.current_proofs_in_order(filing),
            "old_proofs": [p for p in filing.proofs.all() if p.replaced_at is not None],
            "audit": selectors.filing_audit_trail(filing),
            "can_decide": filing.status == AnnualFiling.Status.AWAITING_BUREAU,
            "can_revoke": filing.status == AnnualFiling.Status.APPROVED,
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            "show_delete": False,
        }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def get_urls(self):
        return [
            path(
                "<int:pk>/approve/",
                self.admin_site.admin_view(self.approve_view),
                name="registry_annualfiling_approve",
            ),
            path(
                "<int:pk>/return/",
                self.admin_site.admin_view(self.return_view),
                name="registry_annualfiling_return",
            ),
            path(
                "<int:pk>/revoke/",
                self.admin_site.admin_view(self.revoke_view),
                name="registry_annualfiling_revoke",
            ),
            *super().get_urls(),
        ]

    def _filing_or_404(self, request, pk):
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def approve_view(self, request, pk):
        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:registry_annualfiling_change", args=[pk]))
        filing = self._filing_or_404(request, pk)
        try:
            services.filing_bureau_approve(actor=request.user, filing=filing)
        except DomainError as exc:
            for message in exc.messages:
                self.message_user(request, message, messages.ERROR)
        else:
            self.message_user(
                request,
                _("%(filing)s approved. The manager can now download the certificate.")
                % {"filing": filing},
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:registry_annualfiling_change", args=[pk]))

    def return_view(self, request, pk):
        filing = self._filing_or_404(request, pk)
        form = ReturnForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.filing_bureau_return(
                    actor=request.user,
                    filing=filing,
                    reason=form.cleaned_data["reason"],
                    marks=form.marks(),
                )
            except DomainError as exc:
                for message in exc.messages:
                    self.message_user(request, message, messages.ERROR)
            else:
                self.message_user(
                    request, _("%(filing)s returned to the manager.") % {"filing": filing}
                )
            return HttpResponseRedirect(reverse("admin:registry_annualfiling_change", args=[pk]))
        return self._return_page(request, [filing], form, single=True)

    def revoke_view(self, request, pk):
        """Revoke (撤销) an approved filing, with a reason (asked on an intermediate page)."""
        filing = self._filing_or_404(request, pk)
        change_url = reverse("admin:registry_annualfiling_change", args=[pk])
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.filing_revoke(
                    actor=request.user, filing=filing, reason=form.cleaned_data["reason"]
                )
            except DomainError as exc:
                for message in exc.messages:
                    self.message_user(request, message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("The approval of %(filing)s was revoked; its certificate no longer verifies.")
                    % {"filing": filing},
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(change_url)
        return reason_page(
            self,
            request,
            title=_("Revoke the approval of the filing"),
            intro=_(
                "The certificate of this filing no longer verifies: the public check and the "
                "lookup say that it was revoked, with today's date. The year's registry status "
                "is decided again. The manager and his firm are told."
            ),
            people=[filing],
            form=form,
            submit=_("Revoke"),
            cancel_url=change_url,
        )

    # --- actions --------------------------------------------------------------------------

    @admin.action(description=_("Approve the selected filings"), permissions=["change"])
    def approve(self, request, queryset):
        results = services.filing_decide_each(
            actor=request.user,
            filings=queryset.select_related("manager"),
            decide=services.filing_bureau_approve,
        )
        _report(
            self,
            request,
            results,
            lambda n: ngettext("%(n)d filing approved.", "%(n)d filings approved.", n) % {"n": n},
        )

    @admin.action(
        description=_("Return the selected filings (asks for a reason)"), permissions=["change"]
    )
    def return_filings(self, request, queryset):
        form = ReturnForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            results = services.filing_decide_each(
                actor=request.user,
                filings=queryset.select_related("manager"),
                decide=services.filing_bureau_return,
                reason=form.cleaned_data["reason"],
                marks=form.marks(),
            )
            _report(
                self,
                request,
                results,
                lambda n: (
                    ngettext("%(n)d filing returned.", "%(n)d filings returned.", n) % {"n": n}
                ),
            )
            return None
        return self._return_page(
            request,
            queryset.select_related("manager"),
            form,
            action_checkbox_name=admin.helpers.ACTION_CHECKBOX_NAME,
        )

    def _return_page(self, request, filings, form, **extra):
        """The intermediate page that asks for the reason of a return (one filing or several)."""
        return TemplateResponse(
            request,
            "admin/registry/annualfiling/return.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Return filings to the managers"),
                "filings": filings,
                "form": form,
                "opts": self.opts,
                **extra,
            },
        )


@admin.register(FilingWindow)
class FilingWindowAdmin(BureauScopedAdmin):
    list_display = ["jurisdiction", "year", "opens_on", "closes_on"]
    list_filter = ["year", JurisdictionListFilter]
    list_select_related = ["jurisdiction"]

    def scoped_queryset(self, request):
        return FilingWindow.objects.filter(
            jurisdiction__in=jurisdiction_list_for(user=request.user)
        ).select_related("jurisdiction")


class FilingExtensionForm(forms.ModelForm):
    class Meta:
        model = FilingExtension
        fields = ["manager", "year", "until", "reason"]

    def clean(self):
        data = super().clean()
        manager, year, until = data.get("manager"), data.get("year"), data.get("until")
        if manager and year and until:
            error = services.extension_until_error(manager=manager, year=year, until=until)
            if error:
                self.add_error("until", error)
        return data


@admin.register(FilingExtension)
class FilingExtensionAdmin(BureauScopedAdmin):
    form = FilingExtensionForm
    list_display = ["manager", "year", "until", "reason", "granted_by", "granted_at"]
    list_filter = ["year", ManagerJurisdictionFilter]
    search_fields = ["manager__real_name", "=manager__registration_number"]
    list_select_related = ["manager", "granted_by"]
    autocomplete_fields = ["manager"]
    fields = ["manager", "year", "until", "reason"]

    def scoped_queryset(self, request):
        return FilingExtension.objects.filter(
            manager__in=manager_list_for(user=request.user)
        ).select_related("manager", "granted_by")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "manager":
            kwargs["queryset"] = manager_list_for(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        try:
            saved = services.filing_extension_grant(
                actor=request.user,
                manager=obj.manager,
                year=obj.year,
                until=obj.until,
                reason=obj.reason,
            )
        except DomainError as exc:
            # The form checks the same rules first; this is only a race with a colleague.
            raise PermissionDenied(" ".join(exc.messages)) from exc
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


# --- registry status, credit record, conduct records -------------------------------------------


class ConductRecordForm(forms.ModelForm):
    evidence = PrivateFileField(
        label=_("evidence"),
        help_text=_("PDF, JPEG or PNG: the decision, the notice of penalty or of commendation."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Of a bad record only; left out: general.
        self.fields["severity"].required = False

    def clean_severity(self):
        return self.cleaned_data.get("severity") or ConductRecord.Severity.GENERAL

    class Meta:
        model = ConductRecord
        fields = [
            "manager",
            "kind",
            "severity",
            "occurred_on",
            "summary",
            "details",
            "evidence",
            "effective_from",
            "effective_until",
            "public",
        ]


@admin.register(ConductRecord)
class ConductRecordAdmin(XlsxExportAdmin, BureauScopedAdmin):
    """Good and bad conduct records of the jurisdiction's managers. A bad record in force counts
    in the registry status; entering or changing one decides the decided years again. Records
    are ended (an end date), not deleted: the history keeps every change."""

    xlsx_columns = staticmethod(exports.conduct_record_columns)  # "export to Excel"
    form = ConductRecordForm
    list_display = [
        "manager",
        "kind",
        "severity",
        "occurred_on",
        "summary",
        "effective_from",
        "effective_until",
        "public",
        "recorded_by",
        "voided_at",
        "repaired_on",
    ]
    list_filter = ["kind", "severity", "public", ManagerJurisdictionFilter]
    search_fields = ["manager__real_name", "=manager__registration_number", "summary"]
    list_select_related = ["manager", "recorded_by"]
    autocomplete_fields = ["manager"]
    readonly_fields = [
        "evidence_link",
        "recorded_by",
        "recorded_at",
        "voided_at",
        "voided_by",
        "void_reason",
        "repaired_on",
    ]
    date_hierarchy = "occurred_on"

    def scoped_queryset(self, request):
        return selectors.conduct_record_list_for(user=request.user).select_related("recorded_by")

    def get_fields(self, request, obj=None):
        fields = list(ConductRecordForm.Meta.fields)
        if obj is not None:
            fields.insert(fields.index("evidence"), "evidence_link")
            fields += ["recorded_by", "recorded_at"]
            if obj.voided_at or obj.repaired_on:
                fields += ["voided_at", "voided_by", "void_reason", "repaired_on"]
        return fields

    def get_readonly_fields(self, request, obj=None):
        # A record stays with its manager: moving it would leave the first one's statuses stale.
        fields = list(super().get_readonly_fields(request, obj))
        return fields + ["manager"] if obj is not None else fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            form.base_fields["evidence"].required = False
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "manager":
            kwargs["queryset"] = manager_list_for(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("evidence"))
    def evidence_link(self, obj):
        if not obj or not obj.evidence:
            return "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("registry:conduct_evidence", args=[obj.pk]),
            obj.evidence_name,
        )

    def save_model(self, request, obj, form, change):
        upload = form.cleaned_data.get("evidence")
        if upload is not None and hasattr(upload, "detected_mime"):
            obj.evidence_name = upload.name[:255]
        try:
            services.conduct_record_save(actor=request.user, record=obj)
        except DomainError as exc:
            raise PermissionDenied(" ".join(exc.messages)) from exc

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(RegistryStatus)
class RegistryStatusAdmin(XlsxExportAdmin, ReadOnlyAdminMixin, BureauScopedAdmin):
    """The registry status of each manager and year, as decided when the window closed and
    changed since (late approval, conduct): read-only, with the manager's credit record."""

    xlsx_columns = staticmethod(exports.registry_status_columns)  # the abnormal list too

    list_display = [
        "manager",
        "registration_number",
        "year",
        "status",
        "reasons_text",
        "updated_at",
    ]
    list_filter = ["year", "status", FilingJurisdictionFilter]
    search_fields = ["manager__real_name", "=manager__registration_number"]
    list_select_related = ["manager"]
    fields = [
        "manager",
        "year",
        "status",
        "reasons_text",
        "jurisdiction",
        "closed_on",
        "decided_at",
        "updated_at",
        "changes",
    ]
    readonly_fields = fields
    show_full_result_count = False

    def scoped_queryset(self, request):
        return selectors.registry_status_list_for(user=request.user)

    def get_search_results(self, request, queryset, search_term):
        return search_by_manager(queryset, search_term), False

    @admin.display(description=_("registration number"), ordering="manager__registration_number")
    def registration_number(self, obj):
        return obj.manager.registration_number

    @admin.display(description=_("reasons"))
    def reasons_text(self, obj):
        return obj.reasons_text or "—"

    @admin.display(description=_("credit record"))
    def changes(self, obj):
        entries = CreditEntry.objects.filter(manager_id=obj.manager_id).select_related("actor")
        return (
            format_html_join(
                "",
                "<div>{} · {} · {} → <strong>{}</strong> · {} {}</div>",
                (
                    (
                        formats.date_format(timezone.localtime(e.created_at), "DATETIME_FORMAT"),
                        e.year,
                        e.get_previous_status_display() or "—",
                        e.get_status_display(),
                        e.get_cause_display(),
                        e.reasons_text,
                    )
                    for e in entries
                ),
            )
            or "—"
        )
