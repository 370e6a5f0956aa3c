"""Smaller holes closed (issue 11, part 10): nobody reviews his own filing; odd ids in the
admin's URLs are 404, never 500."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import FirmMembership
from accounts.services import firm_membership_grant
from core.errors import DomainError
from registry import selectors, services
from registry.models import AnnualFiling, ReviewEvent
from tests import factories as f

from .conftest import YEAR

Status = AnnualFiling.Status


@pytest.fixture
def superuser(db, mfa):
    return mfa(f.UserFactory(is_staff=True, is_superuser=True))


@pytest.fixture
def reviewer_who_filed(filing_world):
    """A manager of the firm whose account was (wrongly, before the fix, or by data older than
    it) also made one of the firm's reviewers, with his filing awaiting the firm."""
    w = filing_world
    manager = f.ManagerProfileFactory(real_name="自审人")
    f.employ(manager, w.firm)
    filing = services.filing_start(actor=manager.user, year=YEAR)
    f.add_proofs(filing)
    services.filing_submit(actor=manager.user, filing=filing)
    FirmMembership.objects.create(user=manager.user, firm=w.firm, role="reviewer")
    manager.user._portal_roles = None  # roles are cached per user object
    return manager.user, filing


# --- a manager never becomes a firm reviewer -----------------------------------------------------


def test_the_service_refuses_to_make_a_manager_a_firm_reviewer(filing_world, superuser):
    manager_user = filing_world.manager.user
    with pytest.raises(DomainError) as excinfo:
        firm_membership_grant(actor=superuser, user=manager_user, firm=filing_world.firm)
    assert excinfo.value.code == "other_role"
    assert "nobody may review his own filing" in excinfo.value.messages[0]
    assert not FirmMembership.objects.filter(user=manager_user).exists()


def test_the_service_refuses_bureau_staff_and_needs_an_administrator(filing_world, superuser):
    w = filing_world
    with pytest.raises(DomainError):
        firm_membership_grant(actor=superuser, user=w.bureau, firm=w.firm)
    newcomer = f.UserFactory()
    with pytest.raises(PermissionDenied):
        firm_membership_grant(actor=w.reviewer, user=newcomer, firm=w.firm)
    membership = firm_membership_grant(actor=superuser, user=newcomer, firm=w.firm, role="admin")
    assert (membership.firm, membership.role) == (w.firm, "admin")


def test_the_admin_refuses_to_give_a_manager_firm_membership(filing_world, superuser, as_user):
    client = as_user(superuser)
    client.cookies["django_language"] = "en"
    manager_user = filing_world.manager.user
    response = client.post(
        reverse("admin:accounts_firmmembership_add"),
        {"user": manager_user.pk, "firm": filing_world.firm.pk, "role": "reviewer"},
    )
    assert response.status_code == 200  # the form again, with the error
    assert "belongs to a property manager" in response.content.decode()
    assert not FirmMembership.objects.filter(user=manager_user).exists()


def test_the_admin_still_adds_an_ordinary_reviewer(filing_world, superuser, as_user):
    newcomer = f.UserFactory()
    response = as_user(superuser).post(
        reverse("admin:accounts_firmmembership_add"),
        {"user": newcomer.pk, "firm": filing_world.firm.pk, "role": "reviewer"},
    )
    assert response.status_code == 302
    assert FirmMembership.objects.get(user=newcomer).firm == filing_world.firm


def test_the_admin_changes_a_reviewers_role_but_not_the_person(filing_world, superuser, as_user):
    membership = FirmMembership.objects.get(user=filing_world.reviewer)
    client = as_user(superuser)
    url = reverse("admin:accounts_firmmembership_change", args=[membership.pk])
    response = client.post(
        url,
        {"user": filing_world.manager.user.pk, "firm": filing_world.firm.pk, "role": "reviewer"},
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert (membership.user, membership.role) == (filing_world.reviewer, "reviewer")
    assert not FirmMembership.objects.filter(user=filing_world.manager.user).exists()


# --- ... and a reviewer who filed never reviews his own filing ------------------------------------


def test_a_reviewers_own_filing_is_not_in_his_firm_queue(reviewer_who_filed, filing_world, as_user):
    user, filing = reviewer_who_filed
    assert filing not in selectors.firm_queue(user=user, status=Status.AWAITING_FIRM)
    assert filing in selectors.firm_queue(user=filing_world.reviewer, status=Status.AWAITING_FIRM)
    html = as_user(user).get(reverse("registry:firm_queue")).content.decode()
    assert "自审人" not in html


def test_a_reviewer_cannot_open_or_approve_his_own_filing(reviewer_who_filed, as_user):
    user, filing = reviewer_who_filed
    client = as_user(user)
    assert client.get(reverse("registry:firm_filing_detail", args=[filing.pk])).status_code == 404
    assert client.post(reverse("registry:firm_filing_approve", args=[filing.pk])).status_code == 404
    response = client.post(
        reverse("registry:firm_filing_return", args=[filing.pk]), {"reason": "自己退回"}
    )
    assert response.status_code == 404
    client.post(reverse("registry:firm_bulk_approve"), {"filing": [filing.pk]})
    with pytest.raises(PermissionDenied):
        services.filing_firm_approve(actor=user, filing=filing)
    filing.refresh_from_db()
    assert filing.status == Status.AWAITING_FIRM
    assert not ReviewEvent.objects.filter(filing=filing, action="firm_approve").exists()


# --- odd ids in the admin's URLs ------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "abc/approve/",
        "abc/return/",
        "abc/change/",
        "1%20OR%201=1/approve/",
        "../approve/",
        "99999999999999999999/approve/",
        "99999999999999999999/change/",
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_odd_filing_id_in_the_admin_is_a_404_not_a_500(filing_world, mfa, as_user, path, method):
    client = as_user(mfa(filing_world.bureau))
    client.raise_request_exception = False
    base = reverse("admin:registry_annualfiling_changelist")
    response = getattr(client, method)(base + path, follow=True)
    assert response.status_code == 404
