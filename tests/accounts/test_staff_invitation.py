"""New bureau staff come in through a one-time invitation link that expires after 72 hours and
leads through the password (at least 12 characters) and the authenticator set-up."""

import datetime as dt
import hashlib
import re
import uuid

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import BureauMembership, StaffInvitation, User
from core.errors import DomainError
from tests import factories as f
from tests.auth import client_for, totp_code

NEW_EMAIL = "new.official@example.cn"
GOOD_PASSWORD = "Zhujian-2026-jishou"
LINK_RE = re.compile(r"https?://\S+/staff-invitations/([A-Za-z0-9_-]+)/")
CSRF_RE = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"')


@pytest.fixture(autouse=True)
def _own_cache(settings):
    caches = {name: dict(conf) for name, conf in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"staff-inv-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches


@pytest.fixture
def admin_user(db):
    return f.UserFactory(is_staff=True, is_superuser=True)


def invite(capture, *, actor, email=NEW_EMAIL, jurisdiction):
    """Invite through the service; the e-mail goes out after the commit. Returns the link's
    token, read from the e-mail."""
    from django.core import mail

    before = len(mail.outbox)
    with capture(execute=True):
        services.staff_invitation_create(actor=actor, email=email, jurisdiction=jurisdiction)
    assert len(mail.outbox) == before + 1
    return LINK_RE.search(mail.outbox[-1].body).group(1)


def link(token):
    return reverse("accounts:staff_invitation_accept", args=[token])


def _page(response, token) -> bytes:
    """The page without what differs by nature: the CSRF token, the address itself (the
    language switch returns to it)."""
    return CSRF_RE.sub(b"", response.content).replace(token.encode(), b"TOKEN")


# --- inviting -----------------------------------------------------------------------------------


def test_administrator_invites_in_the_admin_and_the_mail_carries_the_link(
    world, admin_user, mailoutbox, django_capture_on_commit_callbacks
):
    client = client_for(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:accounts_staffinvitation_add"),
            {"email": "New.Official@Example.cn", "jurisdiction": world.county.pk},
        )
    assert response.status_code == 302, response.content[:1000]
    invitation = StaffInvitation.objects.get()
    assert invitation.email == NEW_EMAIL
    assert invitation.jurisdiction == world.county
    assert invitation.invited_by == admin_user
    valid_for = invitation.expires_at - invitation.created_at
    assert abs(valid_for - dt.timedelta(hours=72)) < dt.timedelta(seconds=5)
    [message] = mailoutbox
    assert message.to == [NEW_EMAIL]
    assert "吉首市" in message.body
    assert "72" in message.body
    token = LINK_RE.search(message.body).group(1)
    # Only the token's hash is stored.
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not StaffInvitation.objects.filter(token_hash=token).exists()
    assert client_for(None).get(link(token)).status_code == 200


def test_prefecture_official_invites_only_into_the_prefecture(
    world, django_capture_on_commit_callbacks
):
    invite(
        django_capture_on_commit_callbacks, actor=world.prefecture_bureau, jurisdiction=world.county
    )
    elsewhere = f.JurisdictionFactory(
        code="430100", name="长沙市", level="prefecture", parent=world.province
    )
    with pytest.raises(PermissionDenied):
        services.staff_invitation_create(
            actor=world.prefecture_bureau, email="b@example.cn", jurisdiction=elsewhere
        )
    with pytest.raises(PermissionDenied):
        services.staff_invitation_create(
            actor=world.prefecture_bureau, email="c@example.cn", jurisdiction=world.province
        )


@pytest.mark.parametrize("who", ["bureau", "reviewer", "provider_user"])
def test_county_officials_firms_and_providers_cannot_invite_staff(world, who):
    actor = getattr(world, who)
    with pytest.raises(PermissionDenied):
        services.staff_invitation_create(
            actor=actor, email="x@example.cn", jurisdiction=world.county
        )
    assert client_for(actor).get(reverse("admin:accounts_staffinvitation_add")).status_code in (
        302,
        403,
    )
    assert not StaffInvitation.objects.exists()


def test_manager_cannot_invite_staff(world):
    with pytest.raises(PermissionDenied):
        services.staff_invitation_create(
            actor=world.manager.user, email="x@example.cn", jurisdiction=world.county
        )


def test_an_existing_account_is_not_invited(world, admin_user):
    with pytest.raises(DomainError):
        services.staff_invitation_create(
            actor=admin_user, email=world.manager.user.email.upper(), jurisdiction=world.county
        )


def test_prefecture_official_sees_the_invitations_of_the_prefecture_only(
    world, admin_user, django_capture_on_commit_callbacks
):
    invite(django_capture_on_commit_callbacks, actor=admin_user, jurisdiction=world.county)
    elsewhere = f.JurisdictionFactory(
        code="430100", name="长沙市", level="prefecture", parent=world.province
    )
    invite(
        django_capture_on_commit_callbacks,
        actor=admin_user,
        email="changsha@example.cn",
        jurisdiction=elsewhere,
    )
    html = (
        client_for(world.prefecture_bureau)
        .get(reverse("admin:accounts_staffinvitation_changelist"))
        .content.decode()
    )
    assert NEW_EMAIL in html
    assert "changsha@example.cn" not in html


def test_inviting_again_replaces_the_link(world, admin_user, django_capture_on_commit_callbacks):
    first = invite(django_capture_on_commit_callbacks, actor=admin_user, jurisdiction=world.county)
    second = invite(django_capture_on_commit_callbacks, actor=admin_user, jurisdiction=world.county)
    assert StaffInvitation.objects.count() == 1
    anonymous = Client()
    assert anonymous.get(link(first)).status_code == 404
    assert anonymous.get(link(second)).status_code == 200


def test_admin_action_sends_a_new_link(
    world, admin_user, mailoutbox, django_capture_on_commit_callbacks
):
    first = invite(django_capture_on_commit_callbacks, actor=admin_user, jurisdiction=world.county)
    invitation = StaffInvitation.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(admin_user).post(
            reverse("admin:accounts_staffinvitation_changelist"),
            {"action": "send_new_link", "_selected_action": [invitation.pk]},
        )
    assert response.status_code == 302
    assert len(mailoutbox) == 2
    second = LINK_RE.search(mailoutbox[-1].body).group(1)
    assert Client().get(link(first)).status_code == 404
    assert Client().get(link(second)).status_code == 200


# --- accepting ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_invited_official_sets_password_then_authenticator_and_then_works(world, mailoutbox):
    # transaction=True: the e-mail and allauth's record of the new authenticator follow commits.
    services.staff_invitation_create(
        actor=world.prefecture_bureau, email=NEW_EMAIL, jurisdiction=world.county
    )
    token = LINK_RE.search(mailoutbox[-1].body).group(1)
    client = Client()
    page = client.get(link(token))
    assert page.status_code == 200
    assert NEW_EMAIL in page.content.decode()

    # Eleven characters are enough for a manager, not for staff.
    response = client.post(link(token), {"password1": "Zhujian-202", "password2": "Zhujian-202"})
    assert response.status_code == 200
    assert "至少" in response.content.decode() and "12" in response.content.decode()
    assert not User.objects.filter(email=NEW_EMAIL).exists()

    response = client.post(link(token), {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    user = User.objects.get(email=NEW_EMAIL)
    assert user.is_staff and not user.is_superuser
    assert user.check_password(GOOD_PASSWORD)
    assert BureauMembership.objects.get(user=user).jurisdiction == world.county
    assert EmailAddress.objects.get(user=user).verified
    assert StaffInvitation.objects.get().used_at is not None

    # Logged in, but no data before the authenticator.
    manager_page = reverse("overview:manager_detail", args=[world.manager.pk])
    response = client.get(manager_page)
    assert response["Location"].startswith(reverse("mfa_activate_totp"))

    # The set-up follows at once (the password was just typed: no second password prompt).
    setup = client.get(reverse("mfa_activate_totp"))
    assert setup.status_code == 200
    secret = setup.context["form"].secret
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert client.get(manager_page).status_code == 200
    # The e-mail's link, opened again later, just leads home.
    assert client.get(link(token))["Location"] == reverse("home")

    # The next log-in asks for password and code.
    client.post(reverse("account_logout"))
    again = Client()
    response = again.post(reverse("account_login"), {"login": NEW_EMAIL, "password": GOOD_PASSWORD})
    assert response["Location"].startswith(reverse("mfa_authenticate"))


def test_the_link_works_once(world, admin_user, django_capture_on_commit_callbacks):
    token = invite(django_capture_on_commit_callbacks, actor=admin_user, jurisdiction=world.county)
    data = {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD}
    accepted = Client()
    assert accepted.post(link(token), data).status_code == 302
    # The same person clicking again (still without an authenticator) is sent to the set-up; a
    # second submission changes nothing.
    again = accepted.get(link(token))
    assert again["Location"].startswith(reverse("mfa_activate_totp"))
    assert accepted.post(link(token), data).status_code == 403
    assert User.objects.filter(email=NEW_EMAIL).count() == 1
    other = Client()
    assert other.get(link(token)).status_code == 404
    response = other.post(
        link(token), {"password1": "Another-2026-pw", "password2": "Another-2026-pw"}
    )
    assert response.status_code == 404
    assert User.objects.get(email=NEW_EMAIL).check_password(GOOD_PASSWORD)
    assert "_auth_user_id" not in other.session


def test_the_link_expires_after_72_hours(world, admin_user, django_capture_on_commit_callbacks):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token = invite(
            django_capture_on_commit_callbacks, actor=admin_user, jurisdiction=world.county
        )
    with time_machine.travel(start + dt.timedelta(hours=71, minutes=59), tick=False):
        assert Client().get(link(token)).status_code == 200
    data = {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD}
    with time_machine.travel(start + dt.timedelta(hours=72, minutes=1), tick=False):
        assert Client().get(link(token)).status_code == 404
        assert Client().post(link(token), data).status_code == 404
    assert not User.objects.filter(email=NEW_EMAIL).exists()


def test_unknown_expired_and_used_links_answer_alike(
    world, admin_user, django_capture_on_commit_callbacks
):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        used = invite(
            django_capture_on_commit_callbacks, actor=admin_user, jurisdiction=world.county
        )
        expired = invite(
            django_capture_on_commit_callbacks,
            actor=admin_user,
            email="late@example.cn",
            jurisdiction=world.county,
        )
        data = {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD}
        assert Client().post(link(used), data).status_code == 302
    with time_machine.travel(start + dt.timedelta(hours=73), tick=False):
        tokens = [used, expired, "no-such-token-0123456789"]
        answers = [Client().get(link(token)) for token in tokens]
    assert {r.status_code for r in answers} == {404}
    assert len({_page(r, token) for r, token in zip(answers, tokens, strict=True)}) == 1
    assert "邀请链接无效" in answers[0].content.decode()


def test_inviting_the_same_address_again_in_the_admin_sends_a_new_link(
    world, admin_user, mailoutbox, django_capture_on_commit_callbacks
):
    first = invite(django_capture_on_commit_callbacks, actor=admin_user, jurisdiction=world.county)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(admin_user).post(
            reverse("admin:accounts_staffinvitation_add"),
            {"email": NEW_EMAIL, "jurisdiction": world.county.pk},
        )
    assert response.status_code == 302
    assert StaffInvitation.objects.count() == 1
    second = LINK_RE.search(mailoutbox[-1].body).group(1)
    assert Client().get(link(first)).status_code == 404
    assert Client().get(link(second)).status_code == 200
