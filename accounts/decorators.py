"""Role gates for portal views. They answer 403 to a logged-in user of another role (no object is
revealed by that: object access is decided by the selectors, which answer 404)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect

from .roles import Role, roles_of


def role_required(*allowed: Role, complete_profile: bool = True):
    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            roles = roles_of(request.user)
            if roles.role not in allowed:
                raise PermissionDenied
            if (
                complete_profile
                and roles.role == Role.MANAGER
                and (roles.manager_profile is None or not roles.manager_profile.is_complete)
            ):
                # A manager completes the profile before using anything else.
                return redirect("accounts:profile")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


manager_required = role_required(Role.MANAGER)
firm_required = role_required(Role.FIRM)
bureau_required = role_required(Role.BUREAU, Role.ADMIN)
