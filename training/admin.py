"""Bureau staff approve providers and courses, verify study records and set hours rules here,
limited to their jurisdiction and below."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.admin import (
    BureauScopedAdmin,
    JurisdictionListFilter,
    ManagerJurisdictionFilter,
    ReadOnlyAdminMixin,
    ReviewOnlyAdminMixin,
    XlsxExportAdmin,
)
from accounts.selectors import jurisdiction_list_for
from core.bulk import decide_each
from core.errors import DomainError

from . import audits, exports, selectors, services
from .forms import RejectForm
from .models import (
    AuditDraw,
    AuditItem,
    AuditPolicy,
    Course,
    HoursRule,
    Provider,
    ProviderReport,
    ProviderStaff,
    StudyRecord,
)


@admin.register(Provider)
class ProviderAdmin(BureauScopedAdmin):
    list_display = [
        "name",
        "credit_code",
        "jurisdiction",
        "status",
        "approved_from",
        "approved_until",
    ]
    list_filter = ["status", JurisdictionListFilter]
    search_fields = ["name", "credit_code"]
    list_select_related = ["jurisdiction"]
    actions = ["approve", "suspend"]

    def scoped_queryset(self, request):
        return selectors.provider_list_for(user=request.user).select_related("jurisdiction")

    # The status changes only through the actions (a service that records who and when).
    readonly_fields = ["status", "status_changed_by", "status_changed_at"]

    def _set_status(self, request, queryset, status: str) -> int:
        results = decide_each(
            queryset,
            services.provider_status_set,
            item_arg="provider",
            actor=request.user,
            status=status,
        )
        for provider, error in results:
            if error:
                self.message_user(request, f"{provider}: {error}", messages.WARNING)
        return sum(1 for _provider, error in results if error is None)

    @admin.action(description=_("Approve the selected providers"), permissions=["change"])
    def approve(self, request, queryset):
        n = self._set_status(request, queryset, Provider.Status.APPROVED)
        self.message_user(request, _("%(n)s provider(s) approved.") % {"n": n}, messages.SUCCESS)

    @admin.action(description=_("Suspend the selected providers"), permissions=["change"])
    def suspend(self, request, queryset):
        n = self._set_status(request, queryset, Provider.Status.SUSPENDED)
        self.message_user(request, _("%(n)s provider(s) suspended.") % {"n": n}, messages.WARNING)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(ProviderStaff)
class ProviderStaffAdmin(admin.ModelAdmin):
    list_display = ["user", "provider"]
    autocomplete_fields = ["user"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("user", "provider")
        return qs if request.user.is_superuser else qs.none()


@admin.register(Course)
class CourseAdmin(BureauScopedAdmin):
    list_display = [
        "code",
        "title",
        "provider",
        "category",
        "mode",
        "hours",
        "start_date",
        "end_date",
    ]
    list_filter = ["category", "mode"]
    search_fields = ["code", "title", "provider__name"]
    list_select_related = ["provider"]

    def scoped_queryset(self, request):
        return Course.objects.filter(
            provider__in=selectors.provider_list_for(user=request.user)
        ).select_related("provider")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "provider":
            kwargs["queryset"] = selectors.provider_list_for(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(StudyRecord)
class StudyRecordAdmin(XlsxExportAdmin, ReviewOnlyAdminMixin, BureauScopedAdmin):
    xlsx_columns = staticmethod(exports.study_record_columns)
    list_display = [
        "manager",
        "record_title",
        "completed_on",
        "hours",
        "assessment",
        "source",
        "status",
    ]
    list_filter = ["status", "source", "assessment", ManagerJurisdictionFilter]
    search_fields = [
        "manager__real_name",
        "manager__registration_number",
        "course__code",
        "course__title",
        "external_title",
    ]
    list_select_related = ["manager", "course"]
    date_hierarchy = "completed_on"
    actions = ["verify", "reject"]
    readonly_fields = [
        "manager",
        "course",
        "external_title",
        "external_provider",
        "completed_on",
        "hours",
        "assessment",
        "score",
        "certificate_link",
        "source",
        "status",
        "rejection_reason",
        "verified_by",
        "verified_at",
        "report",
        "created_at",
    ]
    fields = readonly_fields

    def scoped_queryset(self, request):
        return selectors.study_record_list_for(user=request.user)

    @admin.display(description=_("course"))
    def record_title(self, obj):
        return obj.title

    @admin.display(description=_("certificate"))
    def certificate_link(self, obj):
        from django.urls import reverse
        from django.utils.html import format_html

        if not obj.certificate:
            return "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            reverse("training:certificate", args=[obj.pk]),
            obj.certificate_name or _("view"),
        )

    def _report(self, request, results, done_message) -> None:
        for record, error in results:
            if error:
                self.message_user(
                    request,
                    f"{record.manager.real_name} · {record.title}: {error}",
                    messages.WARNING,
                )
        done = sum(1 for _record, error in results if error is None)
        self.message_user(request, done_message(done), messages.SUCCESS)

    @admin.action(description=_("Verify the selected records"))
    def verify(self, request, queryset):
        # Every selected record goes to the service, which locks it and says why not when it
        # is not awaiting verification (another official decided it meanwhile).
        results = decide_each(
            queryset.select_related("manager", "course"),
            services.study_record_verify,
            item_arg="record",
            actor=request.user,
        )
        self._report(
            request,
            results,
            lambda n: ngettext("%(n)d record verified.", "%(n)d records verified.", n) % {"n": n},
        )

    @admin.action(description=_("Reject the selected records (asks for a reason)"))
    def reject(self, request, queryset):
        if "apply" in request.POST:
            form = RejectForm(request.POST)
            if form.is_valid():
                results = decide_each(
                    queryset.select_related("manager", "course"),
                    services.study_record_reject,
                    item_arg="record",
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
                self._report(
                    request,
                    results,
                    lambda n: (
                        ngettext("%(n)d record rejected.", "%(n)d records rejected.", n) % {"n": n}
                    ),
                )
                return None
        else:
            form = RejectForm()
        return render(
            request,
            "admin/training/studyrecord/reject.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Reject study records"),
                "records": queryset,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                "opts": self.model._meta,
            },
        )


@admin.register(HoursRule)
class HoursRuleAdmin(BureauScopedAdmin):
    list_display = ["jurisdiction", "year", "annual_minimum", "cycle_minimum", "cycle_years"]
    list_filter = ["year", JurisdictionListFilter]
    list_select_related = ["jurisdiction"]

    def scoped_queryset(self, request):
        return HoursRule.objects.filter(
            jurisdiction__in=jurisdiction_list_for(user=request.user)
        ).select_related("jurisdiction")


@admin.register(ProviderReport)
class ProviderReportAdmin(ReadOnlyAdminMixin, BureauScopedAdmin):
    list_display = [
        "original_name",
        "provider",
        "status",
        "row_count",
        "created_count",
        "error_count",
        "created_at",
    ]
    list_filter = ["status"]
    list_select_related = ["provider"]
    readonly_fields = [
        "provider",
        "uploaded_by",
        "original_name",
        "status",
        "row_count",
        "created_count",
        "duplicate_count",
        "error_count",
        "error_report",
        "created_at",
    ]
    fields = readonly_fields

    def scoped_queryset(self, request):
        return selectors.provider_report_list_for(user=request.user).select_related("provider")


# --- sampled audits --------------------------------------------------------------------------


@admin.register(AuditPolicy)
class AuditPolicyAdmin(BureauScopedAdmin):
    """Each bureau sets its own policy here (inherited by the jurisdictions below it that have
    none). Saved through `audits.audit_policy_set`, which records who and when."""

    list_display = [
        "jurisdiction",
        "mode",
        "sample_percent",
        "max_hours_per_day",
        "answer_days",
        "draw_every_days",
        "changed_by",
        "changed_at",
    ]
    list_select_related = ["jurisdiction", "changed_by"]
    fields = [
        "jurisdiction",
        "mode",
        "sample_percent",
        "max_hours_per_day",
        "answer_days",
        "draw_every_days",
        "changed_by",
        "changed_at",
    ]
    readonly_fields = ["changed_by", "changed_at"]

    def scoped_queryset(self, request):
        return selectors.audit_policy_list_for(user=request.user)

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "jurisdiction"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        try:
            saved = audits.audit_policy_set(
                actor=request.user,
                jurisdiction=obj.jurisdiction,
                mode=obj.mode,
                sample_percent=obj.sample_percent,
                max_hours_per_day=obj.max_hours_per_day,
                answer_days=obj.answer_days,
                draw_every_days=obj.draw_every_days,
            )
        except DomainError as exc:
            raise PermissionDenied(" ".join(exc.messages)) from exc
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(AuditDraw)
class AuditDrawAdmin(ReadOnlyAdminMixin, BureauScopedAdmin):
    list_display = [
        "jurisdiction",
        "year",
        "trigger",
        "drawn_by",
        "drawn_at",
        "seed",
        "population_count",
        "random_count",
        "sampled_count",
        "due_on",
    ]
    list_filter = ["year", "trigger"]
    list_select_related = ["jurisdiction", "drawn_by"]
    readonly_fields = [*list_display, "sample_percent", "max_hours_per_day", "rule_hits"]
    fields = readonly_fields

    def scoped_queryset(self, request):
        return selectors.audit_draw_list_for(user=request.user)


@admin.register(AuditItem)
class AuditItemAdmin(ReadOnlyAdminMixin, BureauScopedAdmin):
    """The audited records, to look up; decisions are taken on the bureau's audit pages."""

    list_display = ["manager", "record", "jurisdiction", "status", "due_on", "decided_by"]
    list_filter = ["status", "expired", "draw__year"]
    search_fields = ["manager__real_name", "manager__registration_number"]
    list_select_related = ["manager", "record", "record__course", "jurisdiction", "decided_by"]
    readonly_fields = [
        "draw",
        "record",
        "manager",
        "jurisdiction",
        "reasons",
        "status",
        "due_on",
        "answer",
        "answered_at",
        "decided_by",
        "decided_at",
        "note",
        "expired",
    ]
    fields = readonly_fields

    def scoped_queryset(self, request):
        return selectors.audit_item_list_for(user=request.user)
