"""Staff reach nothing but the second-factor pages until their session has passed it.

allauth's MFA offers TOTP but has no setting that requires it; this middleware does, on every
URL (not only the admin). Bureau officials, administrators and any is_staff user
(`staff_auth.is_staff_account`) whose session has not passed the second factor
(`staff_auth.second_factor_state`):

- without an authenticator: reach only the authenticator set-up (and what it needs: the
  re-authentication it may ask for, the recovery codes), log-in and code step, logout, the
  language switch and the health probe; every other page redirects to the set-up;
- with an authenticator: are logged out and sent to log in again, password and code.

Requests that are not page views (POST and the other unsafe methods) are refused with 403
instead of a redirect: nothing is ever served or changed before the second factor. Every staff
request also renews the session's idle expiry (STAFF_SESSION_IDLE_SECONDS).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from .staff_auth import (
    SecondFactor,
    is_staff_account,
    second_factor_state,
    staff_session_refresh_expiry,
)

#: URL names open to a staff session without its second factor, whatever its state.
OPEN_WITHOUT_SECOND_FACTOR = frozenset(
    {
        "account_login",
        "account_logout",
        "mfa_authenticate",
        "set_language",
        "healthz",
    }
)
#: Further URL names open to staff who still have to set up their authenticator.
OPEN_FOR_SETUP = OPEN_WITHOUT_SECOND_FACTOR | {
    "mfa_activate_totp",
    # The set-up asks for the password again when the log-in is older than a few minutes.
    "account_reauthenticate",
    "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes",
    "mfa_download_recovery_codes",
}


class BureauStaffRequireMFAMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        static = settings.STATIC_URL or ""
        self._static_prefix = "/" + static.lstrip("/") if not static.startswith("http") else None

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not is_staff_account(user):
            return self.get_response(request)
        staff_session_refresh_expiry(request)
        if self._static_prefix and request.path_info.startswith(self._static_prefix):
            return self.get_response(request)
        state = second_factor_state(request, user)
        if state is SecondFactor.PASSED:
            return self.get_response(request)
        url_name = _url_name(request)
        if state is SecondFactor.CODE_REQUIRED:
            # An authenticator exists but this session never gave its code: start again.
            logout(request)
            if url_name in OPEN_WITHOUT_SECOND_FACTOR:
                return self.get_response(request)
            return _refuse(
                request,
                reverse("account_login"),
                _(
                    "For your security, log in again with your password and the code from your "
                    "authenticator app."
                ),
            )
        if url_name in OPEN_FOR_SETUP:
            return self.get_response(request)
        return _refuse(
            request,
            reverse("mfa_activate_totp"),
            _("Set up two-factor authentication (an authenticator app) before using the portal."),
        )


def _url_name(request) -> str | None:
    try:
        return resolve(request.path_info).url_name
    except Resolver404:
        return None


def _refuse(request, target: str, message: str):
    """A page view is redirected (with `next`, to come back afterwards); anything else gets 403."""
    if request.method not in ("GET", "HEAD"):
        raise PermissionDenied(message)
    messages.warning(request, message)
    return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
