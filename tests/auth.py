"""Test clients logged in the way the portal requires, and the TOTP codes of the test secret.

Staff (bureau, administrators, is_staff) reach nothing until their session has passed the second
factor (accounts/staff_auth.py). `client_for` gives them an authenticator if they have none and
records the password and code steps in the session exactly as allauth's log-in does, so that
tests about something else need not go through the log-in form. Tests about the log-in itself go
through the real form (tests/accounts/test_staff_mfa.py)."""

import time

from allauth.account.internal.flows.login import record_authentication
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.test import Client, RequestFactory

from accounts.models import User
from accounts.staff_auth import is_staff_account

PASSWORD = "pw-Test-2026"  # tests.factories.UserFactory's password
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp_activate(user, secret: str = TOTP_SECRET):
    """Give `user` a TOTP authenticator with `secret` (once)."""
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, secret)
    return user


def totp_code(secret: str = TOTP_SECRET) -> str:
    """The current code of `secret`; waits for the next period when this one is about to end."""
    period = mfa_settings.TOTP_PERIOD
    if period - time.time() % period < 2:
        time.sleep(period - time.time() % period + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


def mark_second_factor_passed(client: Client, user) -> None:
    """Record in the client's session what allauth records for a log-in with password and code."""
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    request = RequestFactory().get("/")
    request.session = client.session
    request.user = user
    record_authentication(request, user, "password", email=user.email)
    record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type)
    request.session.save()


def client_for(user, *, second_factor: bool = True) -> Client:
    """A client logged in as `user` (None: anonymous). For staff, the session has passed the
    second factor unless `second_factor` is False (a password-only session)."""
    client = Client()
    if user is not None:
        client.force_login(user)
        # A fresh copy: the check caches the user's roles on the instance it is given.
        if second_factor and is_staff_account(User.objects.get(pk=user.pk)):
            totp_activate(user)
            mark_second_factor_passed(client, user)
    return client
