import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import FirmInvitation, FirmMembership
from tests import factories as f


def test_firm_admin_invites_a_reviewer_who_accepts(
    world, as_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(world.reviewer).post(
            reverse("accounts:firm_reviewers"), {"email": "Hr@Example.cn", "role": "reviewer"}
        )
    assert response.status_code == 302
    invitation = FirmInvitation.objects.get(firm=world.firm)
    assert invitation.email == "hr@example.cn"
    assert len(mail.outbox) == 1
    assert invitation.token in mail.outbox[0].body

    invitee = f.UserFactory(email="hr@example.cn")
    as_user(invitee).post(reverse("accounts:invitation_accept", args=[invitation.token]))
    membership = FirmMembership.objects.get(user=invitee)
    assert membership.firm == world.firm
    assert membership.role == "reviewer"


def test_invitation_cannot_be_used_by_someone_else(world, as_user):
    as_user(world.reviewer).post(
        reverse("accounts:firm_reviewers"), {"email": "hr@example.cn", "role": "reviewer"}
    )
    invitation = FirmInvitation.objects.get(firm=world.firm)
    stranger = f.UserFactory(email="stranger@example.cn")
    as_user(stranger).post(reverse("accounts:invitation_accept", args=[invitation.token]))
    assert not FirmMembership.objects.filter(user=stranger).exists()


def test_plain_reviewer_cannot_invite(world, as_user):
    plain = f.FirmMembershipFactory(firm=world.firm, role="reviewer").user
    response = as_user(plain).post(
        reverse("accounts:firm_reviewers"), {"email": "x@example.cn", "role": "admin"}
    )
    assert response.status_code == 403
    assert not FirmInvitation.objects.exists()


def test_last_admin_cannot_be_removed(world):
    from accounts.services import firm_member_remove
    from core.errors import DomainError

    membership = FirmMembership.objects.get(user=world.reviewer)
    with pytest.raises(DomainError):
        firm_member_remove(actor=world.reviewer, membership=membership)
    assert FirmMembership.objects.filter(pk=membership.pk).exists()


def test_admin_removes_a_reviewer(world, as_user):
    other = f.FirmMembershipFactory(firm=world.firm, role="reviewer")
    as_user(world.reviewer).post(reverse("accounts:firm_reviewer_remove", args=[other.pk]))
    assert not FirmMembership.objects.filter(pk=other.pk).exists()
