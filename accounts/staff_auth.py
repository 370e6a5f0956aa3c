"""How a staff session authenticates: the second factor on every page, and the idle timeout.

"Staff" are bureau officials (a BureauMembership row), administrators (is_superuser) and any
other is_staff user. Their session counts as passed only when allauth recorded a second factor
("mfa") in *this* session: the code step of the log-in, a re-authentication by code, or the
activation of the authenticator (which allauth does not record; `record_totp_activation` does).
That an authenticator merely exists is not enough: a session that reached a staff account
through the password alone (a password reset that logs in, a future log-in method that skips
the code step) does not pass.

Trusting a browser (MFA_TRUST_ENABLED) would skip the code step without a record; it is off,
and must stay off while this rule holds.
"""

from __future__ import annotations

import enum
import time

from allauth.account.adapter import get_adapter
from allauth.account.authentication import get_authentication_records

# allauth keeps the session's authentication log through this function (its login, code step and
# re-authentication flows all call it); recording the same way keeps one format in the session.
from allauth.account.internal.flows.login import record_authentication
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import HttpRequest

from .roles import roles_of


def is_staff_account(user) -> bool:
    """Whether `user` is staff for the stricter rules (second factor, idle timeout, password
    length): an administrator, an is_staff user, or a bureau official. An unsaved user (a
    password checked before the account exists) is judged by its flags alone."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.is_staff:
        return True
    if user.pk is None:
        return False
    return roles_of(user).bureau_membership is not None


class SecondFactor(enum.Enum):
    PASSED = "passed"
    #: The account has no authenticator yet: only the set-up is open to it.
    SETUP_REQUIRED = "setup_required"
    #: The account has an authenticator but this session never gave a code: log in again.
    CODE_REQUIRED = "code_required"


def has_totp(user) -> bool:
    return Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).exists()


def session_passed_second_factor(request: HttpRequest, user) -> bool:
    return any(
        record.get("method") == "mfa" for record in get_authentication_records(request, user)
    )


def second_factor_state(request: HttpRequest, user) -> SecondFactor:
    """Where the staff session of `user` stands with the second factor."""
    # Read with the user's roles (one query per request, see roles.users_with_roles).
    if not roles_of(user).has_totp:
        return SecondFactor.SETUP_REQUIRED
    if session_passed_second_factor(request, user):
        return SecondFactor.PASSED
    return SecondFactor.CODE_REQUIRED


def record_totp_activation(sender, request=None, user=None, authenticator=None, **kwargs) -> None:
    """Receiver of allauth's `authenticator_added`: activating a TOTP authenticator proves the
    code in this session (the activation form checks it), so it counts as the second factor.

    allauth sends the signal once the activation is committed, inside the activation request and
    before the session is saved."""
    if request is None or user is None or authenticator is None:
        return
    if authenticator.type != Authenticator.Type.TOTP:
        return
    current = getattr(request, "user", None)
    if current is None or not current.is_authenticated or current.pk != user.pk:
        return
    record_authentication(
        request, user, "mfa", id=authenticator.pk, type=authenticator.type, activated=True
    )


def staff_session_start(request: HttpRequest, user) -> None:
    """Log in a new staff member who has just set the password from an invitation link.

    The password was typed in this very request, so the session is recorded as freshly
    (re-)authenticated by password: the authenticator set-up that follows, which allauth guards
    with a recent re-authentication, does not ask for the same password a second time."""
    get_adapter(request).login(request, user)
    record_authentication(request, user, "password", reauthenticated=True, invitation=True)
    staff_session_refresh_expiry(request)


_REFRESHED_AT_KEY = "staff_session_refreshed_at"
#: Renewing the expiry saves the session and sends its cookie again; doing so at most once a
#: minute keeps staff pages from writing the session on every request (and their late
#: responses from setting a cookie the browser has just dropped on logout).
STAFF_SESSION_REFRESH_SECONDS = 60


def staff_session_refresh_expiry(request: HttpRequest) -> None:
    """Staff sessions end after STAFF_SESSION_IDLE_SECONDS without a request (to the minute):
    each of their requests renews the expiry, unless it was renewed less than a minute ago."""
    session = request.session
    idle = settings.STAFF_SESSION_IDLE_SECONDS
    now = int(time.time())
    last = session.get(_REFRESHED_AT_KEY)
    recent = isinstance(last, int) and 0 <= now - last < STAFF_SESSION_REFRESH_SECONDS
    if recent and session.get_expiry_age() == idle:
        return
    session.set_expiry(idle)
    session[_REFRESHED_AT_KEY] = now
