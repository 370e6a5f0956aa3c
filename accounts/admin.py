"""The Django admin is the bureau's workplace. Every list, detail, search, filter and action is
limited to the official's jurisdiction and below, through the same selectors as the portal."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters

from core.bulk import decide_each
from core.errors import DomainError
from core.exports import XlsxExportAdminMixin
from core.pagination import EstimatedCountPaginator

from . import exports, selectors
from .access import sees_full_id_numbers
from .forms import ID_NUMBER_NOT_IN_ADDRESS, IdNumberSearchForm, ReasonForm, looks_like_id_number
from .models import (
    BureauMembership,
    Employment,
    Firm,
    FirmMembership,
    IdentityLookup,
    Jurisdiction,
    ManagerProfile,
    PendingRegistration,
    RegistrationEvent,
    RegistrationRule,
    RegistrationStatus,
    StaffInvitation,
    User,
    WorkHistory,
)
from .roles import Role, roles_of
from .services import (
    bureau_membership_grant,
    firm_membership_check,
    firm_membership_grant,
    jurisdiction_save,
    manager_find_by_id_number,
    registration_approve,
    registration_cancel,
    registration_refuse,
    registration_rule_save,
    staff_invitation_check,
    staff_invitation_create,
)


class JurisdictionListFilter(admin.SimpleListFilter):
    """Filter by county/prefecture, offering only the jurisdictions the official may see."""

    title = _("jurisdiction")
    parameter_name = "jurisdiction"
    field_path = "jurisdiction__path"

    def lookups(self, request, model_admin):
        return [(j.pk, j.name) for j in selectors.jurisdiction_list_for(user=request.user)]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        allowed = selectors.jurisdiction_list_for(user=request.user).filter(pk=self.value()).first()
        if allowed is None:
            return queryset.none()
        return queryset.filter(**{f"{self.field_path}__startswith": allowed.path})


class FirmJurisdictionListFilter(JurisdictionListFilter):
    field_path = "firm__jurisdiction__path"


class ManagerJurisdictionFilter(JurisdictionListFilter):
    field_path = "manager__jurisdiction__path"


class ReadOnlyAdminMixin:
    """For records that only services write (logs, imports, employments): view, never edit."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReviewOnlyAdminMixin:
    """For records bureau staff review but nobody adds or deletes here (filings, study
    records): "change" means reviewing; the fields themselves are read-only."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser or roles_of(request.user).role == Role.BUREAU


class XlsxExportAdmin(XlsxExportAdminMixin):
    """An admin list downloadable as .xlsx (core.exports): the columns come from
    `xlsx_columns(full_ids=...)`, with ID numbers in full for bureau staff and administrators
    (`access.sees_full_id_numbers`)."""

    xlsx_columns = None

    def get_xlsx_columns(self, request):
        return self.xlsx_columns(full_ids=sees_full_id_numbers(request.user))


class BureauScopedAdmin(admin.ModelAdmin):
    """Base of every admin that bureau staff use: the queryset comes from a scoped selector.
    Lists of a whole province are not counted row by row (core.pagination)."""

    paginator = EstimatedCountPaginator

    def scoped_queryset(self, request):
        raise NotImplementedError

    def get_queryset(self, request):
        qs = self.scoped_queryset(request)
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    def has_module_permission(self, request):
        return request.user.is_superuser or roles_of(request.user).role == Role.BUREAU

    def action_checkbox(self, obj):
        """Django's checkbox of each row, the same markup written directly: rendering a form
        widget's template for each of a hundred rows cost more than the rest of those rows."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            format_html(_("Select this object for an action - {}"), str(obj)),
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.related_model is Jurisdiction:
            kwargs["queryset"] = selectors.jurisdiction_list_for(user=request.user)
        elif db_field.related_model is Firm:
            kwargs["queryset"] = selectors.firm_list_for(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Jurisdiction)
class JurisdictionAdmin(BureauScopedAdmin):
    list_display = ["name", "code", "level", "parent"]
    search_fields = ["name", "code"]
    list_filter = ["level"]

    def scoped_queryset(self, request):
        return selectors.jurisdiction_list_for(user=request.user).select_related("parent")

    def save_model(self, request, obj, form, change):
        try:
            jurisdiction_save(actor=request.user, jurisdiction=obj)
        except DomainError as exc:
            raise PermissionDenied(" ".join(exc.messages)) from exc

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class WorkHistoryInline(admin.TabularInline):
    model = WorkHistory
    extra = 0
    can_delete = False
    readonly_fields = ["employer", "position", "start_date", "end_date"]

    def has_add_permission(self, request, obj=None):
        return False


class EmploymentInline(admin.TabularInline):
    model = Employment
    fk_name = "manager"
    extra = 0
    can_delete = False
    fields = ["firm", "status", "position", "start_date", "end_date"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class RegistrationEventInline(admin.TabularInline):
    model = RegistrationEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "action", "actor", "reason"]
    readonly_fields = fields
    verbose_name_plural = _("registration history")

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


def reason_page(model_admin, request, *, title, intro, people, form, submit, cancel_url, **extra):
    """The intermediate page that asks for the reason of a decision (one or several rows)."""
    return TemplateResponse(
        request,
        "admin/reason_form.html",
        {
            **model_admin.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "people": people,
            "form": form,
            "submit": submit,
            "cancel_url": cancel_url,
            "opts": model_admin.opts,
            **extra,
        },
    )


class RegistrationActionsMixin:
    """Approve, refuse (with a reason) and cancel (注销, with a reason) a manager's registration
    from his admin page, through `accounts.services`; buttons shown by the registration's state."""

    change_form_template = "admin/accounts/managerprofile/change_form.html"

    def _url_name(self, what: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{what}"

    def get_urls(self):
        views = [
            ("registration/approve/", self.registration_approve_view, "registration_approve"),
            ("registration/refuse/", self.registration_refuse_view, "registration_refuse"),
            ("registration/cancel/", self.registration_cancel_view, "registration_cancel"),
        ]
        return [
            *(
                path(
                    f"<int:pk>/{route}",
                    self.admin_site.admin_view(view),
                    name=self._url_name(name),
                )
                for route, view, name in views
            ),
            *super().get_urls(),
        ]

    def _change_url(self, pk) -> str:
        return reverse(f"admin:{self._url_name('change')}", args=[pk])

    def _after_url(self, pk) -> str:
        return self._change_url(pk)

    def _manager_or_404(self, request, pk) -> ManagerProfile:
        if not self.has_change_permission(request):
            raise PermissionDenied
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        manager = self.get_object(request, object_id)
        status = manager.registration_status if manager is not None else None
        can = self.has_change_permission(request, manager)
        extra = {
            "registration_urls": {
                what: reverse(f"admin:{self._url_name('registration_' + what)}", args=[manager.pk])
                for what in ("approve", "refuse", "cancel")
            }
            if manager is not None
            else {},
            "can_review_registration": can and status == RegistrationStatus.AWAITING_BUREAU,
            "can_cancel_registration": can and status == RegistrationStatus.REGISTERED,
        }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def _decided(self, request, call, done_message) -> bool:
        try:
            call()
        except DomainError as exc:
            for message in exc.messages:
                self.message_user(request, message, messages.ERROR)
            return False
        self.message_user(request, done_message, messages.SUCCESS)
        return True

    def registration_approve_view(self, request, pk):
        manager = self._manager_or_404(request, pk)
        if request.method != "POST":
            return HttpResponseRedirect(self._change_url(pk))
        done = self._decided(
            request,
            lambda: registration_approve(actor=request.user, manager=manager),
            _("The registration of %(name)s is approved; the number is issued.")
            % {"name": manager.real_name},
        )
        return HttpResponseRedirect(self._after_url(pk) if done else self._change_url(pk))

    def _reason_view(self, request, pk, *, service, title, intro, submit, done_message):
        manager = self._manager_or_404(request, pk)
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            reason = form.cleaned_data["reason"]
            done = self._decided(
                request,
                lambda: service(actor=request.user, manager=manager, reason=reason),
                done_message % {"name": manager.real_name},
            )
            return HttpResponseRedirect(self._after_url(pk) if done else self._change_url(pk))
        return reason_page(
            self,
            request,
            title=title,
            intro=intro,
            people=[manager],
            form=form,
            submit=submit,
            cancel_url=self._change_url(pk),
        )

    def registration_refuse_view(self, request, pk):
        return self._reason_view(
            request,
            pk,
            service=registration_refuse,
            title=_("Refuse the registration"),
            intro=_("The manager reads the reason, corrects his profile and can ask again."),
            submit=_("Refuse"),
            done_message=_("The registration of %(name)s was refused."),
        )

    def registration_cancel_view(self, request, pk):
        return self._reason_view(
            request,
            pk,
            service=registration_cancel,
            title=_("Cancel the registration"),
            intro=_(
                "From now on the public lookup shows the registration as cancelled, with "
                "today's date, and the manager's filing certificates no longer verify. The "
                "manager and his firm are told."
            ),
            submit=_("Cancel the registration"),
            done_message=_("The registration of %(name)s was cancelled."),
        )


@admin.register(ManagerProfile)
class ManagerProfileAdmin(RegistrationActionsMixin, XlsxExportAdmin, BureauScopedAdmin):
    xlsx_columns = staticmethod(exports.manager_columns)

    list_display = [
        "real_name",
        "registration_number",
        "registration_status",
        "id_number",
        "phone",
        "jurisdiction",
        "skill_level",
        "completed_at",
    ]
    list_filter = [JurisdictionListFilter, "registration_status", "skill_level", "education"]
    search_fields = ["real_name", "registration_number", "phone"]
    search_help_text = _(
        "Name, registration number or mobile phone. For an ID number, use “Find by ID number”."
    )
    list_select_related = ["jurisdiction"]
    list_per_page = 50
    fields = [
        "real_name",
        "id_number",
        "registration_number",
        "phone",
        "education",
        "title",
        "skill_level",
        "certificate_number",
        "jurisdiction",
        "completed_at",
        "registration_status",
        "registered_at",
        "cancelled_at",
        "registration_reason",
        "updated_at",
    ]
    readonly_fields = [
        "id_number",
        "registration_number",
        "jurisdiction",
        "completed_at",
        "registration_status",
        "registered_at",
        "cancelled_at",
        "registration_reason",
        "updated_at",
    ]
    inlines = [EmploymentInline, WorkHistoryInline, RegistrationEventInline]

    def scoped_queryset(self, request):
        return selectors.manager_list_for(user=request.user)

    def get_search_results(self, request, queryset, search_term):
        # An ID number in ?q= would sit in the address, the browser history and the access logs:
        # refused here, found through the POST form of `find_by_id_number_view` instead.
        if looks_like_id_number(search_term):
            messages.warning(request, ID_NUMBER_NOT_IN_ADDRESS)
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)

    def get_urls(self):
        find = path(
            "find-by-id-number/",
            self.admin_site.admin_view(self.find_by_id_number_view),
            name="accounts_managerprofile_find_by_id_number",
        )
        return [find, *super().get_urls()]

    @method_decorator(sensitive_post_parameters("id_number"))
    def find_by_id_number_view(self, request):
        """Find a manager of the official's jurisdiction by the full ID number, sent by POST; the
        look-up is limited and recorded like every other. Found: his page; else: say so."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = IdNumberSearchForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                found = manager_find_by_id_number(
                    actor=request.user,
                    kind=IdentityLookup.Kind.ADMIN_SEARCH,
                    id_number=form.cleaned_data["id_number"],
                    within=self.get_queryset(request),
                )
            except DomainError as exc:
                form.add_error(None, exc)
            else:
                if found is not None:
                    return redirect(
                        reverse("admin:accounts_managerprofile_change", args=[found.pk])
                    )
                form.add_error(None, _("No manager in your jurisdiction has this ID number."))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Find a manager by ID number"),
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(
            request, "admin/accounts/managerprofile/find_by_id_number.html", context
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PendingRegistration)
class PendingRegistrationAdmin(RegistrationActionsMixin, ReviewOnlyAdminMixin, BureauScopedAdmin):
    """The bureau's queue: registrations of its jurisdiction whose firm has confirmed the
    employment and which wait for an official's approval (where the jurisdiction requires it,
    `RegistrationRule`). Approve (the number is issued) or refuse with a reason, one by one or
    several at once."""

    list_display = ["real_name", "firm", "jurisdiction", "skill_level", "education", "waiting"]
    list_filter = [JurisdictionListFilter]
    search_fields = ["real_name"]
    list_per_page = 100
    ordering = ["updated_at", "pk"]
    actions = ["approve", "refuse"]
    fields = [
        "real_name",
        "id_number",
        "phone",
        "education",
        "title",
        "skill_level",
        "certificate_number",
        "jurisdiction",
        "completed_at",
        "registration_status",
    ]
    readonly_fields = fields
    inlines = [EmploymentInline, WorkHistoryInline, RegistrationEventInline]

    def scoped_queryset(self, request):
        current = Employment.objects.filter(
            manager=models.OuterRef("pk"), status=Employment.Status.ACTIVE
        )
        return (
            selectors.manager_list_for(user=request.user)
            .filter(registration_status=RegistrationStatus.AWAITING_BUREAU)
            .annotate(firm_name=models.Subquery(current.values("firm__name")[:1]))
        )

    def _after_url(self, pk) -> str:
        return reverse(f"admin:{self._url_name('changelist')}")

    @admin.display(description=_("firm"))
    def firm(self, obj):
        return obj.firm_name or "—"

    @admin.display(description=_("waiting since"), ordering="updated_at")
    def waiting(self, obj):
        return obj.updated_at

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request, {"title": _("Registrations awaiting review"), **(extra_context or {})}
        )

    def _report(self, request, results, done_msg):
        done = [m for m, error in results if error is None]
        if done:
            self.message_user(request, done_msg(len(done)), messages.SUCCESS)
        for manager, error in results:
            if error is not None:
                self.message_user(request, f"{manager.real_name}: {error}", messages.WARNING)

    @admin.action(description=_("Approve the selected registrations"), permissions=["change"])
    def approve(self, request, queryset):
        results = decide_each(
            queryset, registration_approve, item_arg="manager", actor=request.user
        )
        self._report(
            request,
            results,
            lambda n: (
                ngettext("%(n)d registration approved.", "%(n)d registrations approved.", n)
                % {"n": n}
            ),
        )

    @admin.action(
        description=_("Refuse the selected registrations (asks for a reason)"),
        permissions=["change"],
    )
    def refuse(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            results = decide_each(
                queryset,
                registration_refuse,
                item_arg="manager",
                actor=request.user,
                reason=form.cleaned_data["reason"],
            )
            self._report(
                request,
                results,
                lambda n: (
                    ngettext("%(n)d registration refused.", "%(n)d registrations refused.", n)
                    % {"n": n}
                ),
            )
            return None
        return reason_page(
            self,
            request,
            title=_("Refuse the registration"),
            intro=_("The manager reads the reason, corrects his profile and can ask again."),
            people=list(queryset),
            form=form,
            submit=_("Refuse"),
            cancel_url=reverse(f"admin:{self._url_name('changelist')}"),
            action_name="refuse",
            action_checkbox_name=admin.helpers.ACTION_CHECKBOX_NAME,
        )


class RegistrationRuleForm(forms.ModelForm):
    class Meta:
        model = RegistrationRule
        fields = ["jurisdiction", "bureau_review"]


@admin.register(RegistrationRule)
class RegistrationRuleAdmin(BureauScopedAdmin):
    """Whether a jurisdiction's new registrations need the bureau's approval (inherited down
    the chain; none: the firm's confirmation is enough)."""

    form = RegistrationRuleForm
    list_display = ["jurisdiction", "bureau_review", "updated_by", "updated_at"]
    list_select_related = ["jurisdiction", "updated_by"]

    def scoped_queryset(self, request):
        return RegistrationRule.objects.filter(
            jurisdiction__in=selectors.jurisdiction_list_for(user=request.user)
        ).select_related("jurisdiction", "updated_by")

    def save_model(self, request, obj, form, change):
        try:
            saved = registration_rule_save(
                actor=request.user, jurisdiction=obj.jurisdiction, bureau_review=obj.bureau_review
            )
        except DomainError as exc:
            raise PermissionDenied(" ".join(exc.messages)) from exc
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(IdentityLookup)
class IdentityLookupAdmin(ReadOnlyAdminMixin, BureauScopedAdmin):
    """Who looked up whom by ID number: bureau staff read the look-ups of their jurisdiction."""

    list_display = [
        "created_at",
        "actor",
        "kind",
        "id_number_masked",
        "name_typed",
        "matched",
        "jurisdiction",
    ]
    list_filter = ["kind", "matched", JurisdictionListFilter]
    list_select_related = ["actor", "jurisdiction"]
    search_fields = ["actor__email", "name_typed"]
    date_hierarchy = "created_at"
    fields = [
        "created_at",
        "actor",
        "kind",
        "id_number_masked",
        "name_typed",
        "matched",
        "jurisdiction",
        "manager",
    ]
    readonly_fields = fields

    def scoped_queryset(self, request):
        return selectors.identity_lookup_list_for(user=request.user)

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or roles_of(request.user).role == Role.BUREAU


@admin.register(Firm)
class FirmAdmin(XlsxExportAdmin, BureauScopedAdmin):
    xlsx_columns = staticmethod(exports.firm_columns)

    list_display = ["name", "credit_code", "jurisdiction", "contact_person", "contact_phone"]
    list_filter = [JurisdictionListFilter]
    search_fields = ["name", "credit_code"]
    list_select_related = ["jurisdiction"]

    def scoped_queryset(self, request):
        return selectors.firm_list_for(user=request.user)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Employment)
class EmploymentAdmin(XlsxExportAdmin, ReadOnlyAdminMixin, BureauScopedAdmin):
    xlsx_columns = staticmethod(exports.employment_columns)

    list_display = ["manager", "firm", "status", "position", "start_date", "end_date"]
    list_filter = ["status", FirmJurisdictionListFilter]
    search_fields = ["manager__real_name", "manager__registration_number", "firm__name"]
    list_select_related = ["manager", "firm"]
    readonly_fields = [
        "manager",
        "firm",
        "status",
        "position",
        "start_date",
        "end_date",
        "requested_by",
        "decided_by",
        "ended_by",
        "created_at",
        "decided_at",
    ]

    def scoped_queryset(self, request):
        return selectors.employment_list_for(user=request.user)


class FirmMembershipForm(forms.ModelForm):
    """Refuses an account that is a manager's or has another role (see the service)."""

    class Meta:
        model = FirmMembership
        fields = ["user", "firm", "role"]

    def clean(self):
        cleaned = super().clean()
        user = cleaned.get("user") or getattr(self.instance, "user", None)
        if user is not None:
            try:
                firm_membership_check(user=user)
            except DomainError as exc:
                self.add_error("user" if "user" in self.fields else None, exc)
        return cleaned


@admin.register(FirmMembership)
class FirmMembershipAdmin(admin.ModelAdmin):
    form = FirmMembershipForm
    list_display = ["user", "firm", "role", "created_at"]
    search_fields = ["user__email", "firm__name"]
    autocomplete_fields = ["user", "firm"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("user", "firm")
        return qs if request.user.is_superuser else qs.none()

    def get_readonly_fields(self, request, obj=None):
        # A membership keeps its person: to move someone, remove the row and add another.
        return ["user"] if obj is not None else []

    def save_model(self, request, obj, form, change):
        membership = firm_membership_grant(
            actor=request.user, user=obj.user, firm=obj.firm, role=obj.role
        )
        obj.pk = membership.pk


@admin.register(BureauMembership)
class BureauMembershipAdmin(admin.ModelAdmin):
    """Bureau staff are created here by an administrator, never by sign-up."""

    list_display = ["user", "jurisdiction", "title", "created_at"]
    search_fields = ["user__email", "jurisdiction__name"]
    autocomplete_fields = ["user"]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("user", "jurisdiction")
        return qs if request.user.is_superuser else qs.none()

    def save_model(self, request, obj, form, change):
        bureau_membership_grant(
            actor=request.user, user=obj.user, jurisdiction=obj.jurisdiction, title=obj.title
        )


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password", "language")}),
        (_("Personal info"), {"fields": ("first_name", "last_name")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def has_module_permission(self, request):
        return request.user.is_superuser

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.none()


class StaffInvitationForm(forms.ModelForm):
    """Who to invite and where; the rule (`staff_invitation_check`) is checked here so that a
    refusal shows on the form. `actor` is set by StaffInvitationAdmin.get_form."""

    actor: User | None = None

    class Meta:
        model = StaffInvitation
        fields = ["email", "jurisdiction"]

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def clean(self):
        data = super().clean()
        email, jurisdiction = data.get("email"), data.get("jurisdiction")
        if email and jurisdiction:
            try:
                staff_invitation_check(actor=self.actor, email=email, jurisdiction=jurisdiction)
            except PermissionDenied:
                self.add_error("jurisdiction", _("You cannot invite staff into this jurisdiction."))
            except DomainError as exc:
                self.add_error("email", exc)
        return data


@admin.register(StaffInvitation)
class StaffInvitationAdmin(admin.ModelAdmin):
    """New bureau staff are invited here: the person gets a one-time link by e-mail, sets a
    password and an authenticator. Administrators invite anywhere, prefecture and province
    officials into their own jurisdiction and below."""

    form = StaffInvitationForm
    list_display = ["email", "jurisdiction", "invited_by", "created_at", "expires_at", "used_at"]
    list_select_related = ["jurisdiction", "invited_by"]
    search_fields = ["email"]
    actions = ["send_new_link"]

    def _may_invite(self, request) -> bool:
        # Asked three times on every admin page (the navigation's list of models): once.
        if not hasattr(request, "_may_invite_staff"):
            request._may_invite_staff = selectors.staff_invitation_jurisdictions_for(
                user=request.user
            ).exists()
        return request._may_invite_staff

    def has_module_permission(self, request):
        return self._may_invite(request)

    def has_view_permission(self, request, obj=None):
        return self._may_invite(request)

    def has_add_permission(self, request):
        return self._may_invite(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def get_queryset(self, request):
        return selectors.staff_invitation_list_for(user=request.user)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["email", "jurisdiction"]
        return [
            "email",
            "jurisdiction",
            "invited_by",
            "created_at",
            "expires_at",
            "used_at",
            "user",
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "jurisdiction":
            kwargs["queryset"] = selectors.staff_invitation_jurisdictions_for(user=request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        invitation = staff_invitation_create(
            actor=request.user,
            email=form.cleaned_data["email"],
            jurisdiction=form.cleaned_data["jurisdiction"],
        )
        # The admin goes on with `obj` (its log entry, the redirect): make it the saved row.
        obj.pk = invitation.pk
        obj._state.adding = False
        obj.refresh_from_db()

    @admin.action(description=_("Send a new invitation link"), permissions=["add"])
    def send_new_link(self, request, queryset):
        sent = 0
        for invitation in queryset.filter(used_at__isnull=True).select_related("jurisdiction"):
            try:
                staff_invitation_create(
                    actor=request.user, email=invitation.email, jurisdiction=invitation.jurisdiction
                )
            except (DomainError, PermissionDenied) as exc:
                message = "; ".join(getattr(exc, "messages", [])) or str(invitation)
                self.message_user(request, f"{invitation.email}: {message}", messages.ERROR)
            else:
                sent += 1
        if sent:
            self.message_user(
                request,
                ngettext(
                    "A new link was sent to %(count)d address.",
                    "A new link was sent to %(count)d addresses.",
                    sent,
                )
                % {"count": sent},
                messages.SUCCESS,
            )
