"""Staff passwords have at least 12 characters; everyone else keeps Django's minimum (8)."""

import uuid

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from tests import factories as f
from tests.auth import PASSWORD

ELEVEN = "Zhujian-202"  # 11 characters
TWELVE = "Zhujian-2026"  # 12 characters


@pytest.fixture(autouse=True)
def _own_cache(settings):
    caches = {name: dict(conf) for name, conf in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"staff-pw-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches


@pytest.fixture
def staff_users(world):
    return {
        "bureau": world.bureau,
        "administrator": f.UserFactory(is_staff=True, is_superuser=True),
        "is_staff": f.UserFactory(is_staff=True),
        # A bureau official whose is_staff flag was never set is staff all the same.
        "bureau_without_flag": f.BureauMembershipFactory(
            jurisdiction=world.county, user__is_staff=False
        ).user,
    }


@pytest.mark.parametrize("kind", ["bureau", "administrator", "is_staff", "bureau_without_flag"])
def test_staff_password_needs_twelve_characters(staff_users, kind):
    user = User.objects.get(pk=staff_users[kind].pk)
    with pytest.raises(ValidationError) as caught:
        password_validation.validate_password(ELEVEN, user)
    assert "password_too_short_for_staff" in [e.code for e in caught.value.error_list]
    password_validation.validate_password(TWELVE, user)


def test_staff_password_message_is_chinese(world):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as caught:
        password_validation.validate_password(ELEVEN, world.bureau)
    assert "工作人员账号的密码至少需要 12 个字符" in " ".join(caught.value.messages)


@pytest.mark.parametrize("who", ["manager", "reviewer", "provider_user"])
def test_others_keep_the_default_minimum(world, who):
    user = world.manager.user if who == "manager" else getattr(world, who)
    password_validation.validate_password("Wuye-2026x", user)  # 10 characters
    with pytest.raises(ValidationError):
        password_validation.validate_password("Wy-2026", user)  # 7: Django's minimum is 8


def test_bureau_cannot_change_to_a_short_password(world, as_user):
    response = as_user(world.bureau).post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": ELEVEN, "password2": ELEVEN},
    )
    assert response.status_code == 200
    assert "密码太短。工作人员账号的密码至少需要 12 个字符" in response.content.decode()
    world.bureau.refresh_from_db()
    assert world.bureau.check_password(PASSWORD)

    response = as_user(world.bureau).post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": TWELVE, "password2": TWELVE},
    )
    assert response.status_code == 302
    world.bureau.refresh_from_db()
    assert world.bureau.check_password(TWELVE)


def test_manager_may_change_to_a_ten_character_password(world, as_user):
    user = world.manager.user
    response = as_user(user).post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "Wuye-2026x", "password2": "Wuye-2026x"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Wuye-2026x")


def test_administrator_cannot_give_staff_a_short_password_in_the_admin(world, as_user):
    admin = f.UserFactory(is_staff=True, is_superuser=True)
    url = reverse("admin:auth_user_password_change", args=[world.bureau.pk])
    response = as_user(admin).post(url, {"password1": ELEVEN, "password2": ELEVEN})
    assert response.status_code == 200
    assert "密码太短。工作人员账号的密码至少需要 12 个字符" in response.content.decode()
    world.bureau.refresh_from_db()
    assert world.bureau.check_password(PASSWORD)
