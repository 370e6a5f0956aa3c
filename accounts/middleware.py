"""Bureau staff must use two-factor authentication before they reach the admin.

allauth's MFA offers TOTP but has no setting that requires it; this middleware does. Any user who
could enter the admin (is_staff) and has no active TOTP authenticator is sent to the TOTP set-up
page when requesting an admin URL.
"""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _


class BureauStaffRequireMFAMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self._admin_prefix = None

    def __call__(self, request):
        if self._admin_prefix is None:
            self._admin_prefix = reverse("admin:index")
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and user.is_staff
            and request.path.startswith(self._admin_prefix)
            and not user_has_totp(user)
        ):
            messages.warning(
                request,
                _(
                    "Set up two-factor authentication (an authenticator app) before using the "
                    "administration."
                ),
            )
            return redirect(reverse("mfa_activate_totp") + "?next=" + request.path)
        return self.get_response(request)


def user_has_totp(user) -> bool:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
