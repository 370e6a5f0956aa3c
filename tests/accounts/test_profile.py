import logging
import re

import pytest
from django.db import connection
from django.urls import reverse

from accounts.models import ManagerProfile
from accounts.services import id_number_hash
from tests import factories as f

ID_RE = re.compile(r"\d{17}[\dX]")


def profile_data(**overrides):
    data = {
        "real_name": "田小军",
        "id_number": f.make_id_number(),
        "phone": "139 0743 1234",
        "education": "bachelor",
        "title": "junior",
        "skill_level": "level3",
        "certificate_number": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def new_user(db):
    return f.UserFactory()


def test_new_manager_is_sent_to_complete_the_profile(new_user, as_user):
    response = as_user(new_user).get(reverse("overview:manager_dashboard"))
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:profile")


def test_completing_the_profile_issues_no_registration_number_yet(new_user, as_user):
    """The number comes with the firm's confirmation (tests/accounts/test_registration.py)."""
    data = profile_data()
    response = as_user(new_user).post(reverse("accounts:profile"), data)
    assert response.status_code == 302
    profile = ManagerProfile.objects.get(user=new_user)
    assert profile.registration_number is None
    assert profile.registration_status == "awaiting_firm" and profile.is_complete
    assert profile.phone == "13907431234"
    assert profile.id_number == data["id_number"]
    assert profile.id_number_hash == id_number_hash(data["id_number"])


def test_id_number_is_encrypted_at_rest(new_user, as_user):
    data = profile_data()
    as_user(new_user).post(reverse("accounts:profile"), data)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, id_number_hash FROM accounts_managerprofile")
        stored, digest = cursor.fetchone()
    assert data["id_number"] not in stored
    assert data["id_number"] not in digest


@pytest.mark.parametrize(
    ("id_number", "message"),
    [
        ("43310119850615123", "18"),  # wrong length
        ("433101198502301234", "birth"),  # impossible date
    ],
)
def test_bad_id_number_gets_a_clear_message_and_saves_nothing(
    new_user, as_user, id_number, message
):
    client = as_user(new_user)
    client.post(reverse("set_language"), {"language": "en"})
    response = client.post(reverse("accounts:profile"), profile_data(id_number=id_number))
    assert response.status_code == 200
    assert message in response.content.decode().lower()
    assert not ManagerProfile.objects.exists()


def test_lower_case_x_and_full_width_digits_are_accepted_after_normalisation(new_user, as_user):
    number = f.make_id_number()
    typed = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in number[:17]) + number[17]
    typed = typed[:-1] + typed[-1].lower()
    as_user(new_user).post(reverse("accounts:profile"), profile_data(id_number=typed))
    assert ManagerProfile.objects.get(user=new_user).id_number == number.upper()


def test_the_same_id_number_cannot_register_twice(world, new_user, as_user):
    response = as_user(new_user).post(
        reverse("accounts:profile"), profile_data(id_number=world.manager.id_number)
    )
    assert response.status_code == 200
    assert not ManagerProfile.objects.filter(user=new_user).exists()


def test_name_and_id_are_fixed_after_registration(world, as_user):
    manager = world.manager
    response = as_user(manager.user).post(
        reverse("accounts:profile"),
        profile_data(real_name="别人", id_number=f.make_id_number(), phone="13800001111"),
    )
    assert response.status_code == 302
    manager.refresh_from_db()
    assert manager.real_name == "彭建国"
    assert manager.phone == "13800001111"


def test_profile_page_never_shows_the_full_id_number(world, as_user):
    html = as_user(world.manager.user).get(reverse("accounts:profile")).content.decode()
    assert world.manager.id_number not in html
    assert world.manager.masked_id_number in html


def test_the_id_number_is_not_logged(new_user, as_user, caplog):
    data = profile_data()
    with caplog.at_level(logging.DEBUG):
        as_user(new_user).post(reverse("accounts:profile"), data)
    assert data["id_number"] not in caplog.text


def test_staff_roles_cannot_create_a_manager_profile(world, as_user):
    response = as_user(world.reviewer).post(reverse("accounts:profile"), profile_data())
    assert response.status_code == 403
