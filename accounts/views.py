"""Pages of managers, firms and bureau staff. Thin: scoped selector, form, one service, message,
redirect. Changes are POST only."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError
from core.sms import sms_enabled

from . import selectors, services
from .access import employment_actions
from .decorators import firm_required, manager_required, role_required
from .forms import (
    AddManagerForm,
    EndEmploymentForm,
    IdNumberSearchForm,
    InviteReviewerForm,
    JoinFirmForm,
    PhoneCodeForm,
    ProfileForm,
    StaffPasswordForm,
    WorkHistoryForm,
)
from .models import Employment, FirmInvitation, IdentityLookup, WorkHistory
from .roles import Role, roles_of
from .staff_auth import staff_session_start


def _error_messages(request, exc: DomainError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- manager -------------------------------------------------------------------------------------


@sensitive_post_parameters("id_number")
@sensitive_variables("form")
@role_required(Role.MANAGER, complete_profile=False)
@require_http_methods(["GET", "POST"])
def profile_edit(request):
    profile = roles_of(request.user).manager_profile
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_save(actor=request.user, data=form.cleaned_data)
        except DomainError as exc:
            form.add_error("id_number" if profile is None else None, exc)
        else:
            if profile is None:
                messages.success(
                    request,
                    _(
                        "Your profile is complete. Your registration number is issued once "
                        "your firm has confirmed your employment."
                    ),
                )
                return redirect("overview:manager_dashboard")
            messages.success(request, _("Your profile was saved."))
            return redirect("accounts:profile")
    work_history = profile.work_history.all() if profile else []
    return render(
        request,
        "accounts/profile_form.html",
        {
            "form": form,
            "profile": profile,
            "work_history": work_history,
            "sms_enabled": sms_enabled(),
            "code_form": PhoneCodeForm(),
        },
    )


@manager_required
@require_POST
def registration_resubmit(request):
    """After a refusal: the manager asks the bureau again (having corrected the profile)."""
    services.registration_resubmit(actor=request.user)
    messages.success(request, _("Your registration was sent to the bureau again."))
    return redirect("accounts:profile")


@manager_required
@require_POST
def phone_code_send(request):
    try:
        services.phone_code_send(actor=request.user)
    except DomainError as exc:
        _error_messages(request, exc)
    else:
        messages.success(request, _("A code was sent to your phone. Enter it below."))
    return redirect("accounts:profile")


@sensitive_post_parameters("code")
@manager_required
@require_POST
def phone_code_check(request):
    form = PhoneCodeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the 6-digit code from the text message."))
        return redirect("accounts:profile")
    try:
        services.phone_code_check(actor=request.user, code=form.cleaned_data["code"])
    except DomainError as exc:
        _error_messages(request, exc)
    else:
        messages.success(request, _("Your phone number is verified."))
    return redirect("accounts:profile")


@manager_required
@require_POST
def sms_opt_out(request):
    opt_out = request.POST.get("opt_out") == "1"
    services.sms_opt_out_set(actor=request.user, opt_out=opt_out)
    messages.success(
        request,
        _("You will get no more text messages.")
        if opt_out
        else _("You will get text messages again."),
    )
    return redirect("accounts:profile")


def _own_work_history(request, pk):
    return get_object_or_404(WorkHistory.objects.filter(profile__user=request.user), pk=pk)


@manager_required
@require_http_methods(["GET", "POST"])
def work_history_edit(request, pk=None):
    entry = _own_work_history(request, pk) if pk else None
    form = WorkHistoryForm(request.POST or None, instance=entry)
    if request.method == "POST" and form.is_valid():
        item = form.save(commit=False)
        item.profile = roles_of(request.user).manager_profile
        item.save()
        messages.success(request, _("The work history was saved."))
        return redirect("accounts:profile")
    return render(request, "accounts/workhistory_form.html", {"form": form, "entry": entry})


@manager_required
@require_POST
def work_history_delete(request, pk):
    _own_work_history(request, pk).delete()
    messages.success(request, _("The entry was deleted."))
    return redirect("accounts:profile")


@manager_required
@require_http_methods(["GET", "POST"])
def manager_employment(request):
    profile = roles_of(request.user).manager_profile
    form = JoinFirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            emp = services.employment_request(
                actor=request.user,
                credit_code=form.cleaned_data["credit_code"],
                position=form.cleaned_data["position"],
            )
        except DomainError as exc:
            form.add_error("credit_code", exc)
        else:
            messages.success(
                request,
                _("Your request was sent to %(firm)s. It takes effect when the firm confirms it.")
                % {"firm": emp.firm.name},
            )
            return redirect("accounts:manager_employment")
    employments = _with_actions(
        request, selectors.employment_list_for(user=request.user).filter(manager=profile)
    )
    return render(
        request,
        "accounts/employment_manager.html",
        {"form": form, "employments": employments, "end_form": EndEmploymentForm()},
    )


def _with_actions(request, employments) -> list[Employment]:
    """The employments, each with `actions`: what the viewer may do with it now (the same rule
    as the services, from accounts.access)."""
    rows = list(employments)
    for employment in rows:
        employment.actions = employment_actions(user=request.user, employment=employment)
    return rows


# --- employment actions, shared by both sides --------------------------------------------------

_EMPLOYMENT_ACTIONS = {
    "confirm": (services.employment_confirm, gettext_lazy("The employment was confirmed.")),
    "decline": (services.employment_decline, gettext_lazy("The request was declined.")),
    "cancel": (services.employment_cancel, gettext_lazy("The request was withdrawn.")),
}


@role_required(Role.MANAGER, Role.FIRM)
@require_POST
def employment_action(request, pk, action):
    employment = selectors.employment_get_for(user=request.user, pk=pk)
    try:
        if action == "end":
            form = EndEmploymentForm(request.POST)
            if not form.is_valid():
                for errors in form.errors.values():
                    for error in errors:
                        messages.error(request, error)
                return _back_to_employment(request)
            services.employment_end(
                employment=employment, actor=request.user, end_date=form.cleaned_data["end_date"]
            )
            messages.success(request, _("The employment was ended. It stays in the history."))
        else:
            service, done = _EMPLOYMENT_ACTIONS[action]
            service(employment=employment, actor=request.user)
            messages.success(request, done)
    except DomainError as exc:
        _error_messages(request, exc)
    return _back_to_employment(request)


def _back_to_employment(request):
    if roles_of(request.user).role == Role.FIRM:
        return redirect("accounts:firm_employment")
    return redirect("accounts:manager_employment")


# --- firm ----------------------------------------------------------------------------------------


@sensitive_post_parameters("id_number")
@sensitive_post_parameters("id_number")
@sensitive_variables("form")
@firm_required
@require_POST
def firm_manager_find(request):
    """The firm's search by ID number: a POST form, so that the number stays out of addresses
    and access logs. Only the firm's current managers can be found."""
    firm = roles_of(request.user).firm
    form = IdNumberSearchForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("id_number", []):
            messages.error(request, error)
        return redirect("overview:firm_managers")
    try:
        found = services.manager_find_by_id_number(
            actor=request.user,
            kind=IdentityLookup.Kind.FIRM_SEARCH,
            id_number=form.cleaned_data["id_number"],
            within=selectors.firm_current_managers(firm=firm),
        )
    except DomainError as exc:
        _error_messages(request, exc)
        return redirect("overview:firm_managers")
    if found is None:
        messages.warning(request, _("None of your firm's current managers has this ID number."))
        return redirect("overview:firm_managers")
    return redirect("overview:manager_detail", pk=found.pk)


@firm_required
@require_http_methods(["GET", "POST"])
def firm_employment(request):
    firm = roles_of(request.user).firm
    form = AddManagerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.employment_offer(
                actor=request.user,
                id_number=form.cleaned_data["id_number"],
                real_name=form.cleaned_data["real_name"],
                position=form.cleaned_data["position"],
                start_date=form.cleaned_data["start_date"],
            )
        except DomainError as exc:
            # On the form as a whole: which field was wrong is not for the firm to learn.
            form.add_error(None, exc)
        else:
            # The name as the firm typed it: the answer tells nothing the firm did not write.
            messages.success(
                request,
                _("%(name)s was asked to confirm the employment.")
                % {"name": form.cleaned_data["real_name"]},
            )
            return redirect("accounts:firm_employment")
    pending = _with_actions(
        request,
        selectors.employment_list_for(user=request.user).filter(status__in=Employment.PENDING),
    )
    recent = _with_actions(
        request,
        selectors.employment_list_for(user=request.user).exclude(status__in=Employment.PENDING)[
            :20
        ],
    )
    return render(
        request,
        "accounts/employment_firm.html",
        {
            "firm": firm,
            "form": form,
            "pending": pending,
            "recent": recent,
            "end_form": EndEmploymentForm(),
        },
    )


@firm_required
@require_http_methods(["GET", "POST"])
def firm_reviewers(request):
    roles = roles_of(request.user)
    form = InviteReviewerForm(request.POST or None)
    if request.method == "POST":
        if not roles.is_firm_admin:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.firm_invitation_create(
                    actor=request.user,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                )
            except DomainError as exc:
                form.add_error("email", exc)
            else:
                messages.success(
                    request,
                    _("An invitation was sent to %(email)s.")
                    % {"email": form.cleaned_data["email"]},
                )
                return redirect("accounts:firm_reviewers")
    return render(
        request,
        "accounts/firm_reviewers.html",
        {
            "firm": roles.firm,
            "form": form,
            "members": selectors.firm_members(firm=roles.firm),
            "invitations": selectors.firm_open_invitations(firm=roles.firm),
            "can_manage": roles.is_firm_admin,
        },
    )


@firm_required
@require_POST
def firm_reviewer_remove(request, pk):
    membership = selectors.firm_member_get_for(user=request.user, pk=pk)
    try:
        services.firm_member_remove(actor=request.user, membership=membership)
    except DomainError as exc:
        _error_messages(request, exc)
    else:
        messages.success(
            request, _("%(email)s is no longer a reviewer.") % {"email": membership.user.email}
        )
    return redirect("accounts:firm_reviewers")


@firm_required
@require_POST
def firm_invitation_revoke(request, pk):
    firm = roles_of(request.user).firm
    invitation = get_object_or_404(FirmInvitation.objects.filter(firm=firm), pk=pk)
    services.firm_invitation_revoke(actor=request.user, invitation=invitation)
    messages.success(request, _("The invitation was withdrawn."))
    return redirect("accounts:firm_reviewers")


@login_required
@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    invitation = get_object_or_404(FirmInvitation.objects.select_related("firm"), token=token)
    if request.method == "POST":
        try:
            services.firm_invitation_accept(actor=request.user, token=token)
        except DomainError as exc:
            _error_messages(request, exc)
        else:
            messages.success(
                request, _("You are now a reviewer of %(firm)s.") % {"firm": invitation.firm.name}
            )
            return redirect("home")
    return render(request, "accounts/invitation_accept.html", {"invitation": invitation})


# --- staff invitations ---------------------------------------------------------------------------


def _staff_invitation_invalid(request):
    # Unknown, expired, used and replaced links get this same page: nothing tells them apart.
    return render(
        request,
        "accounts/staff_invitation_invalid.html",
        {"message": services.STAFF_INVITATION_INVALID},
        status=404,
    )


@never_cache
@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def staff_invitation_accept(request, token):
    """The link of a staff invitation: set the password, then (logged in) the authenticator."""
    invitation = selectors.staff_invitation_get_open(token=token)
    if invitation is None:
        if request.user.is_authenticated and selectors.staff_invitation_accepted_by(
            token=token, user=request.user
        ):
            return redirect("home")  # the same person again (a double click): carry on
        return _staff_invitation_invalid(request)
    form = StaffPasswordForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.staff_invitation_accept(
                token=token, password=form.cleaned_data["password1"]
            )
        except DomainError as exc:
            if exc.code == "invalid":
                return _staff_invitation_invalid(request)
            _error_messages(request, exc)
        except ValidationError as exc:
            form.add_error("password1", exc)
        else:
            staff_session_start(request, user)
            messages.success(
                request,
                _(
                    "Your password is set. Now set up two-factor authentication: scan the code "
                    "with an authenticator app and enter the six digits it shows."
                ),
            )
            return redirect("mfa_activate_totp")
    return render(
        request, "accounts/staff_invitation_accept.html", {"invitation": invitation, "form": form}
    )
