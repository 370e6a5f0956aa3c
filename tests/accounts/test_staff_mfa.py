"""Staff reach no page but the second-factor ones until this session has passed the second
factor, and their sessions end after 30 minutes idle (issue 11, part 1).

Through the real log-in: the password form at /accounts/login/, then the code step with a code
computed from the authenticator's secret."""

import datetime as dt
import uuid

import pytest
import time_machine
from allauth.account.authentication import get_authentication_records
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Firm
from tests import factories as f
from tests.auth import PASSWORD, TOTP_SECRET, client_for, totp_activate, totp_code


@pytest.fixture(autouse=True)
def _own_cache(settings):
    """Cache keys of this test's own: allauth rate-limits log-ins per address and accepts each
    TOTP code once per user and period, both in the cache shared with the other tests."""
    caches = {name: dict(conf) for name, conf in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"staff-mfa-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches


def log_in(client: Client, user, password: str = PASSWORD):
    """The password step of the log-in form."""
    return client.post(reverse("account_login"), {"login": user.email, "password": password})


def enter_code(client: Client, secret: str = TOTP_SECRET):
    """The code step that follows the password for an account with an authenticator."""
    return client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})


def _submitted_filing(world):
    from registry import services

    year = timezone.localdate().year
    f.open_window(world.province, year)
    filing = services.filing_start(actor=world.manager.user, year=year)
    f.add_proofs(filing)
    return services.filing_submit(actor=world.manager.user, filing=filing)


@pytest.fixture
def targets(world):
    """The county bureau's pages with personal data: an ID-card scan, conduct evidence, a
    manager's page, the admin's manager list and the bureau dashboard."""
    filing = _submitted_filing(world)
    record = f.conduct_record(world.manager, by=world.bureau)
    return [
        reverse("registry:proof_file", args=[filing.proofs.get(kind="id_card").pk]),
        reverse("registry:conduct_evidence", args=[record.pk]),
        reverse("overview:manager_detail", args=[world.manager.pk]),
        reverse("admin:accounts_managerprofile_changelist"),
        reverse("admin:index"),
        reverse("overview:bureau_dashboard"),
    ]


def _assert_sent_to(response, url_name):
    assert response.status_code == 302, response.content[:300]
    assert response["Location"].startswith(reverse(url_name)), response["Location"]


# --- staff without an authenticator -------------------------------------------------------------


def test_bureau_without_authenticator_gets_no_data_after_logging_in_with_password(world, targets):
    client = Client()
    response = log_in(client, world.bureau)
    assert response.status_code == 302  # logged in: there is no code step without authenticator
    assert client.session.get("_auth_user_id") == str(world.bureau.pk)
    for url in targets:
        response = client.get(url)
        _assert_sent_to(response, "mfa_activate_totp")
        assert world.manager.real_name.encode() not in response.content
    # The portal's home sends the official to the set-up too (which asks for the password
    # again before it adds an authenticator: allauth's rule).
    home = client.get(reverse("home"), follow=True)
    chain = [url for url, _status in home.redirect_chain]
    assert chain[0].startswith(reverse("mfa_activate_totp"))
    assert chain[-1].startswith(reverse("account_reauthenticate"))
    assert home.status_code == 200


def test_bureau_without_authenticator_cannot_change_anything(world):
    client = Client()
    log_in(client, world.bureau)
    url = reverse("admin:accounts_firm_change", args=[world.firm.pk])
    response = client.post(url, {"name": "改名物业", "credit_code": world.firm.credit_code})
    assert response.status_code == 403
    assert Firm.objects.get(pk=world.firm.pk).name == world.firm.name
    # Downloads asked for by another method get no file either.
    filing = _submitted_filing(world)
    proof = reverse("registry:proof_file", args=[filing.proofs.get(kind="id_card").pk])
    assert client.post(proof).status_code == 403


@pytest.mark.parametrize("kind", ["superuser", "is_staff"])
def test_administrators_and_other_staff_are_held_too(world, kind):
    user = f.UserFactory(is_staff=True, is_superuser=kind == "superuser")
    client = Client()
    log_in(client, user)
    for url in [
        reverse("admin:index"),
        reverse("admin:accounts_managerprofile_changelist"),
        reverse("overview:manager_detail", args=[world.manager.pk]),
    ]:
        _assert_sent_to(client.get(url), "mfa_activate_totp")


def test_firm_reviewers_and_managers_are_not_asked_for_a_second_factor(world):
    for user, url in [
        (world.reviewer, reverse("overview:manager_detail", args=[world.manager.pk])),
        (world.manager.user, reverse("overview:manager_dashboard")),
    ]:
        client = Client()
        log_in(client, user)
        assert client.get(url).status_code == 200


def test_staff_without_second_factor_may_log_out_and_switch_language(world):
    client = Client()
    log_in(client, world.bureau)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert client.get(reverse("healthz")).status_code in (200, 503)
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db(transaction=True)
def test_bureau_sets_up_the_authenticator_and_that_counts_as_the_second_factor(world, targets):
    # transaction=True: allauth announces the new authenticator once it is committed.
    client = Client()
    log_in(client, world.bureau)
    setup = reverse("mfa_activate_totp")
    response = client.get(setup)
    # allauth asks for the password again before an authenticator is added.
    _assert_sent_to(response, "account_reauthenticate")
    response = client.post(response["Location"], {"password": PASSWORD})
    assert response.status_code == 302
    response = client.get(setup)
    assert response.status_code == 200
    secret = response.context["form"].secret
    response = client.post(setup, {"code": totp_code(secret)})
    assert response.status_code == 302
    methods = [r["method"] for r in _records(client, world.bureau)]
    assert "mfa" in methods
    for url in targets:
        assert client.get(url).status_code == 200, url


def _records(client, user):
    class _Request:
        session = client.session

    return get_authentication_records(_Request(), user)


# --- staff with an authenticator ----------------------------------------------------------------


def test_bureau_after_the_password_step_alone_gets_no_data(world, targets):
    totp_activate(world.bureau)
    client = Client()
    response = log_in(client, world.bureau)
    _assert_sent_to(response, "mfa_authenticate")
    for url in targets:
        response = client.get(url)
        assert response.status_code == 302
        assert world.manager.real_name.encode() not in response.content


def test_bureau_after_password_and_code_gets_the_data(world, targets):
    totp_activate(world.bureau)
    client = Client()
    log_in(client, world.bureau)
    response = enter_code(client)
    assert response.status_code == 302
    for url in targets:
        assert client.get(url).status_code == 200, url


def test_a_wrong_code_lets_nothing_through(world, targets):
    totp_activate(world.bureau)
    client = Client()
    log_in(client, world.bureau)
    code = totp_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert response.status_code == 200  # the form again, with its error
    for url in targets:
        assert client.get(url).status_code == 302


def test_a_session_that_skipped_the_code_is_logged_out(world, targets):
    """A session that reached a staff account with an authenticator without its code (any way
    around the log-in's code step) is logged out on its next request and sent to log in."""
    totp_activate(world.bureau)
    client = client_for(world.bureau, second_factor=False)
    response = client.get(targets[0])
    _assert_sent_to(response, "account_login")
    assert "_auth_user_id" not in client.session
    for url in targets:
        assert client.get(url).status_code == 302
    # Changes are refused outright.
    client = client_for(world.bureau, second_factor=False)
    url = reverse("admin:accounts_firm_change", args=[world.firm.pk])
    assert client.post(url, {"name": "改名物业"}).status_code == 403
    assert Firm.objects.get(pk=world.firm.pk).name == world.firm.name


# --- idle sessions ------------------------------------------------------------------------------


def test_staff_sessions_expire_after_30_idle_minutes_and_manager_sessions_do_not(world, settings):
    assert settings.STAFF_SESSION_IDLE_SECONDS == 1800
    totp_activate(world.bureau)
    staff = Client()
    log_in(staff, world.bureau)
    enter_code(staff)
    staff.get(reverse("overview:bureau_dashboard"))
    assert staff.session.get_expiry_age() == 1800

    manager = Client()
    log_in(manager, world.manager.user)
    manager.get(reverse("overview:manager_dashboard"))
    assert manager.session.get_expiry_age() == settings.SESSION_COOKIE_AGE
    assert settings.SESSION_COOKIE_AGE > 1800


def test_staff_session_ends_after_30_idle_minutes_but_not_while_in_use(world):
    totp_activate(world.bureau)
    client = Client()
    log_in(client, world.bureau)
    enter_code(client)
    dashboard = reverse("overview:bureau_dashboard")
    start = timezone.now()
    with time_machine.travel(start + dt.timedelta(minutes=25), tick=False):
        assert client.get(dashboard).status_code == 200
    with time_machine.travel(start + dt.timedelta(minutes=50), tick=False):
        assert client.get(dashboard).status_code == 200  # 25 minutes since the last request
    with time_machine.travel(start + dt.timedelta(minutes=81), tick=False):
        response = client.get(dashboard)  # 31 minutes idle
        _assert_sent_to(response, "account_login")


def test_manager_session_survives_an_idle_hour(world):
    client = Client()
    log_in(client, world.manager.user)
    with time_machine.travel(timezone.now() + dt.timedelta(hours=1), tick=False):
        assert client.get(reverse("overview:manager_dashboard")).status_code == 200


def test_a_password_reset_that_logs_in_does_not_pass_the_second_factor(
    world, targets, settings, mailoutbox
):
    """Even when a password reset logs the account in, a staff session needs the code."""
    import re

    settings.ACCOUNT_LOGIN_ON_PASSWORD_RESET = True
    totp_activate(world.bureau)
    client = Client()
    client.post(reverse("account_reset_password"), {"email": world.bureau.email})
    [message] = mailoutbox
    key_url = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", message.body)[1]
    set_password = client.get(key_url)
    assert set_password.status_code == 302
    new_password = "Zhujian-2026-new"
    response = client.post(
        set_password["Location"], {"password1": new_password, "password2": new_password}
    )
    assert response.status_code == 302
    for url in targets:
        response = client.get(url)
        assert response.status_code == 302, url
        assert world.manager.real_name.encode() not in response.content
