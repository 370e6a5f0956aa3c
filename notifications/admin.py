"""Notices in the admin: bureau staff audit those of their jurisdiction (read-only)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin import BureauScopedAdmin, ReadOnlyAdminMixin, XlsxExportAdmin

from . import exports, selectors
from .models import EVENT_PREFIX, Notice


class ReminderFilter(admin.SimpleListFilter):
    title = _("origin")
    parameter_name = "origin"

    def lookups(self, request, model_admin):
        return [("reminder", _("Reminders and status notices")), ("workflow", _("Filing workflow"))]

    def queryset(self, request, queryset):
        if self.value() == "reminder":
            return queryset.exclude(milestone__startswith=EVENT_PREFIX)
        if self.value() == "workflow":
            return queryset.filter(milestone__startswith=EVENT_PREFIX)
        return queryset


@admin.register(Notice)
class NoticeAdmin(XlsxExportAdmin, ReadOnlyAdminMixin, BureauScopedAdmin):
    """Notices and reminders to the managers and firms of the official's jurisdiction, with
    whether each e-mail and text message went out, how many attempts it took, and the last
    error."""

    xlsx_columns = staticmethod(exports.notice_columns)

    list_display = [
        "created_at",
        "recipient",
        "kind",
        "year",
        "milestone",
        "email_state",
        "attempts",
        "email_error",
        "claimed_at",
        "emailed_at",
        "sms_state",
        "sms_attempts",
        "sms_error",
        "smsed_at",
        "read_at",
    ]
    list_filter = ["email_state", "sms_state", ReminderFilter, "kind", "year"]
    list_select_related = ["recipient"]
    search_fields = ["=recipient__email"]
    readonly_fields = list_display
    fields = list_display
    show_full_result_count = False

    def scoped_queryset(self, request):
        return selectors.jurisdiction_notice_list_for(user=request.user)
