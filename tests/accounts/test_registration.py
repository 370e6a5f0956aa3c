"""Registration (执业登记): the number is issued when the firm confirms the employment and,
where the bureau requires it (a rule inherited down the chain), when an official approves;
refusal with a reason, asking again, cancellation (注销). Services with the actor, locked,
recorded, notified; the admin goes through them."""

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts import services
from accounts.models import (
    Employment,
    ManagerProfile,
    RegistrationEvent,
    RegistrationRule,
    RegistrationStatus,
    User,
)
from core.errors import DomainError
from notifications.models import Notice
from tests import factories as f
from tests.accounts.test_profile import profile_data


@pytest.fixture
def newcomer(world):
    """A manager who has just completed his profile and asked firm A to confirm him."""
    return _signed_up(world, real_name="田小军")


def _signed_up(world, **data):
    user = f.UserFactory()
    services.profile_save(actor=user, data=profile_data(**data))
    user = User.objects.get(pk=user.pk)  # roles are cached per user object
    services.employment_request(actor=user, credit_code=world.firm.credit_code)
    return ManagerProfile.objects.get(user=user)


def _confirm(world, manager):
    employment = Employment.objects.get(manager=manager, status=Employment.Status.REQUESTED)
    return services.employment_confirm(employment=employment, actor=world.reviewer)


def _require_review(world, jurisdiction=None):
    RegistrationRule.objects.create(
        jurisdiction=jurisdiction or world.prefecture, bureau_review=True, updated_by=world.bureau
    )


def _lookup(client, manager):
    return client.post(
        reverse("registry:lookup"), {"number": manager.registration_number, "name": "田小军"}
    )


def test_an_unreviewed_sign_up_has_no_number_and_is_not_found_publicly(newcomer, as_user):
    assert newcomer.registration_number is None
    assert newcomer.registration_status == RegistrationStatus.AWAITING_FIRM
    response = as_user(None).post(
        reverse("registry:lookup"), {"number": "PM2026000001", "name": "田小军"}
    )
    assert response.status_code == 404
    page = as_user(newcomer.user).get(reverse("accounts:profile")).content.decode()
    assert "待企业确认聘用" in page


def test_the_firms_confirmation_issues_the_number_where_no_review_is_required(
    world, newcomer, as_user
):
    _confirm(world, newcomer)
    newcomer.refresh_from_db()
    assert newcomer.registration_status == RegistrationStatus.REGISTERED
    assert re.fullmatch(r"PM\d{4}\d{6}", newcomer.registration_number)
    assert newcomer.registered_at is not None
    event = RegistrationEvent.objects.get(manager=newcomer)
    assert (event.action, event.actor) == (RegistrationEvent.Action.ISSUED, world.reviewer)
    notice = Notice.objects.get(recipient=newcomer.user, kind=Notice.Kind.REGISTRATION_ISSUED)
    assert notice.params["number"] == newcomer.registration_number
    # Now the public finds him.
    response = _lookup(as_user(None), newcomer)
    assert response.status_code == 200 and "已登记" in response.content.decode()


def test_registration_numbers_are_unique_and_never_reused(world):
    a = _signed_up(world)
    _confirm(world, a)
    a.refresh_from_db()
    a_number = a.registration_number
    # Delete the first profile: its number must not come back.
    RegistrationEvent.objects.filter(manager=a).delete()
    Employment.objects.filter(manager=a).delete()
    ManagerProfile.objects.filter(pk=a.pk).delete()
    b = _signed_up(world)
    _confirm(world, b)
    b.refresh_from_db()
    assert b.registration_number != a_number
    assert int(b.registration_number[-6:]) > int(a_number[-6:])


def test_where_the_prefecture_requires_review_the_county_inherits_it(world, newcomer):
    _require_review(world)
    assert services.registration_review_required(jurisdiction=world.county)
    assert not services.registration_review_required(jurisdiction=world.province)
    # The county can turn it off for itself: the nearest rule wins.
    RegistrationRule.objects.create(
        jurisdiction=world.other_county, bureau_review=False, updated_by=world.other_bureau
    )
    assert not services.registration_review_required(jurisdiction=world.other_county)

    _confirm(world, newcomer)
    newcomer.refresh_from_db()
    assert newcomer.registration_status == RegistrationStatus.AWAITING_BUREAU
    assert newcomer.registration_number is None
    # The county's staff (the nearest with staff) are told; not the other county.
    told = set(
        Notice.objects.filter(kind=Notice.Kind.REGISTRATION_TO_REVIEW).values_list(
            "recipient", flat=True
        )
    )
    assert told == {world.bureau.pk}


def test_the_bureau_approves_from_its_pending_list_and_the_number_is_issued(
    world, newcomer, as_user
):
    _require_review(world)
    _confirm(world, newcomer)
    bureau = as_user(world.bureau)
    queue = reverse("admin:accounts_pendingregistration_changelist")
    page = bureau.get(queue)
    assert page.status_code == 200 and "田小军" in page.content.decode()
    # Outside the jurisdiction: not listed, and its pages answer 404.
    other = as_user(world.other_bureau)
    assert "田小军" not in other.get(queue).content.decode()
    approve = reverse("admin:accounts_pendingregistration_registration_approve", args=[newcomer.pk])
    assert other.post(approve).status_code == 404
    # GET changes nothing.
    bureau.get(approve)
    newcomer.refresh_from_db()
    assert newcomer.registration_number is None

    response = bureau.post(approve)
    assert response.status_code == 302
    newcomer.refresh_from_db()
    assert newcomer.registration_status == RegistrationStatus.REGISTERED
    assert newcomer.registration_number
    row = reverse("admin:accounts_pendingregistration_change", args=[newcomer.pk])
    assert row not in bureau.get(queue).content.decode()  # left the queue
    actions = list(
        RegistrationEvent.objects.filter(manager=newcomer).values_list("action", "actor")
    )
    assert actions == [("to_bureau", world.reviewer.pk), ("issued", world.bureau.pk)]
    # A second click changes nothing.
    services.registration_approve(actor=world.bureau, manager=newcomer)
    assert RegistrationEvent.objects.filter(manager=newcomer).count() == 2


def test_refusal_needs_a_reason_and_the_manager_can_ask_again(world, newcomer, as_user):
    _require_review(world)
    _confirm(world, newcomer)
    with pytest.raises(DomainError):
        services.registration_refuse(actor=world.bureau, manager=newcomer, reason="  ")
    with pytest.raises(PermissionDenied):
        services.registration_refuse(actor=world.other_bureau, manager=newcomer, reason="x")
    with pytest.raises(PermissionDenied):
        services.registration_refuse(actor=world.reviewer, manager=newcomer, reason="x")
    url = reverse("admin:accounts_managerprofile_registration_refuse", args=[newcomer.pk])
    bureau = as_user(world.bureau)
    assert bureau.get(url).status_code == 200  # asks for the reason
    bureau.post(url, {"reason": "学历证书与身份证姓名不一致"})
    newcomer.refresh_from_db()
    assert newcomer.registration_status == RegistrationStatus.REFUSED
    assert newcomer.registration_reason == "学历证书与身份证姓名不一致"
    notice = Notice.objects.get(recipient=newcomer.user, kind=Notice.Kind.REGISTRATION_REFUSED)
    assert notice.params["reason"] == "学历证书与身份证姓名不一致"
    manager = as_user(newcomer.user)
    page = manager.get(reverse("accounts:profile")).content.decode()
    assert "学历证书与身份证姓名不一致" in page
    assert manager.get(reverse("accounts:registration_resubmit")).status_code == 405
    manager.post(reverse("accounts:registration_resubmit"))
    newcomer.refresh_from_db()
    assert newcomer.registration_status == RegistrationStatus.AWAITING_BUREAU
    assert RegistrationEvent.objects.filter(manager=newcomer, action="resubmitted").exists()


def test_approval_needs_a_current_employment(world, newcomer):
    _require_review(world)
    employment = _confirm(world, newcomer)
    services.employment_end(employment=employment, actor=world.reviewer)
    with pytest.raises(DomainError):
        services.registration_approve(actor=world.bureau, manager=newcomer)


def test_a_registered_manager_is_not_reviewed_again_by_a_new_firm(world):
    manager = world.manager
    number = manager.registration_number
    _require_review(world)
    employment = Employment.objects.get(manager=manager, status=Employment.Status.ACTIVE)
    services.employment_end(employment=employment, actor=world.reviewer)
    services.employment_request(actor=manager.user, credit_code=world.other_firm.credit_code)
    pending = Employment.objects.get(manager=manager, status=Employment.Status.REQUESTED)
    services.employment_confirm(employment=pending, actor=world.other_reviewer)
    manager.refresh_from_db()
    assert manager.registration_status == RegistrationStatus.REGISTERED
    assert manager.registration_number == number


def test_the_bureau_cancels_a_registration_with_a_reason(world, as_user):
    manager = world.manager
    url = reverse("admin:accounts_managerprofile_registration_cancel", args=[manager.pk])
    assert as_user(world.other_bureau).post(url, {"reason": "x"}).status_code == 404
    assert as_user(world.reviewer).post(url, {"reason": "x"}).status_code in (302, 403)
    manager.refresh_from_db()
    assert manager.registration_status == RegistrationStatus.REGISTERED
    page = as_user(world.bureau).get(
        reverse("admin:accounts_managerprofile_change", args=[manager.pk])
    )
    assert 'data-testid="registration-cancel"' in page.content.decode()
    response = as_user(world.bureau).post(url, {"reason": "本人申请注销"})
    assert response.status_code == 302
    manager.refresh_from_db()
    assert manager.registration_status == RegistrationStatus.CANCELLED
    assert manager.cancelled_at is not None and manager.registration_reason == "本人申请注销"
    told = set(
        Notice.objects.filter(kind=Notice.Kind.REGISTRATION_CANCELLED).values_list(
            "recipient", flat=True
        )
    )
    assert told == {manager.user_id, world.reviewer.pk}
    # Repeating is harmless; a cancelled registration cannot be approved.
    services.registration_cancel(actor=world.bureau, manager=manager, reason="again")
    assert RegistrationEvent.objects.filter(manager=manager, action="cancelled").count() == 1
