"""The bureau's side in the admin: the credit policy of a jurisdiction (a plain edit, like the
hours rule), and the scores, list entries, objections and repairs read-only (the workflows run
on the bureau pages, through the services)."""

from django.contrib import admin

from accounts.access import in_jurisdiction, scoped
from accounts.admin import BureauScopedAdmin
from accounts.selectors import jurisdiction_list_for

from .models import CreditPolicy, CreditScore, Objection, RepairRequest, SupervisionEntry


@admin.register(CreditPolicy)
class CreditPolicyAdmin(BureauScopedAdmin):
    list_display = ["jurisdiction", "base_profile", "base_filing", "base_hours", "updated_at"]
    list_select_related = ["jurisdiction"]

    def scoped_queryset(self, request):
        return CreditPolicy.objects.filter(
            jurisdiction__in=jurisdiction_list_for(user=request.user)
        ).select_related("jurisdiction")

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


class _ReadOnly(BureauScopedAdmin):
    scope_paths: tuple[str, ...] = ("jurisdiction",)

    def scoped_queryset(self, request):
        return scoped(
            self.model.objects.all(), user=request.user, bureau=in_jurisdiction(*self.scope_paths)
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CreditScore)
class CreditScoreAdmin(_ReadOnly):
    list_display = ["manager", "year", "score", "grade", "latest", "as_of"]
    list_filter = ["grade", "year", "latest"]
    search_fields = ["manager__real_name", "manager__registration_number"]
    list_select_related = ["manager"]


@admin.register(SupervisionEntry)
class SupervisionEntryAdmin(_ReadOnly):
    list_display = ["manager", "cause", "starts_on", "ends_on", "ended_at"]
    list_filter = ["cause"]
    search_fields = ["manager__real_name", "manager__registration_number"]
    list_select_related = ["manager"]


@admin.register(Objection)
class ObjectionAdmin(_ReadOnly):
    list_display = ["manager", "target", "status", "due_on", "decided_by"]
    list_filter = ["status", "target"]
    list_select_related = ["manager", "decided_by"]


@admin.register(RepairRequest)
class RepairRequestAdmin(_ReadOnly):
    list_display = ["manager", "conduct_record", "status", "due_on", "decided_by"]
    list_filter = ["status"]
    list_select_related = ["manager", "conduct_record", "decided_by"]
