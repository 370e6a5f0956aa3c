"""The manager's phone verified with a 6-digit code sent by SMS (stored hashed, 10 minutes, 5
tries, 5 codes an hour per account), and the opt-out of text messages."""

import datetime as dt
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts import services
from accounts.models import ManagerProfile, PhoneCode
from core.errors import DomainError


@pytest.fixture
def sms_file(settings, tmp_path):
    path = tmp_path / "sms.txt"
    settings.SMS_URL = f"file://{path}"
    return path


def sent_codes(path) -> list[tuple[str, str]]:
    """(phone, code) of each text message written to the file."""
    if not path.exists():
        return []
    return [
        (line.split("\t")[1], re.search(r"\d{6}", line.split("\t")[2]).group())
        for line in path.read_text().splitlines()
    ]


def test_the_code_goes_to_the_phone_and_only_its_hash_is_stored(world, sms_file):
    services.phone_code_send(actor=world.manager.user)
    [(phone, code)] = sent_codes(sms_file)
    assert phone == world.manager.phone
    stored = PhoneCode.objects.get(profile=world.manager)
    assert code not in stored.code_hash and len(stored.code_hash) == 64


def test_the_right_code_verifies_the_phone_once(world, sms_file):
    services.phone_code_send(actor=world.manager.user)
    [(_phone, code)] = sent_codes(sms_file)
    services.phone_code_check(actor=world.manager.user, code=code)
    world.manager.refresh_from_db()
    assert world.manager.phone_verified_at is not None
    assert not PhoneCode.objects.exists()  # used up
    with pytest.raises(DomainError):
        services.phone_code_check(actor=world.manager.user, code=code)


def test_a_wrong_code_counts_a_try_and_verifies_nothing(world, sms_file):
    services.phone_code_send(actor=world.manager.user)
    [(_phone, code)] = sent_codes(sms_file)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    with pytest.raises(DomainError) as exc:
        services.phone_code_check(actor=world.manager.user, code=wrong)
    assert exc.value.code == "wrong"
    assert PhoneCode.objects.get().tries == 1
    world.manager.refresh_from_db()
    assert world.manager.phone_verified_at is None


def test_after_five_wrong_tries_even_the_right_code_is_refused(world, sms_file):
    services.phone_code_send(actor=world.manager.user)
    [(_phone, code)] = sent_codes(sms_file)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        with pytest.raises(DomainError):
            services.phone_code_check(actor=world.manager.user, code=wrong)
    with pytest.raises(DomainError) as exc:
        services.phone_code_check(actor=world.manager.user, code=code)
    assert exc.value.code == "expired"
    world.manager.refresh_from_db()
    assert world.manager.phone_verified_at is None


def test_a_code_older_than_ten_minutes_is_refused(world, sms_file):
    services.phone_code_send(actor=world.manager.user)
    [(_phone, code)] = sent_codes(sms_file)
    PhoneCode.objects.update(sent_at=PhoneCode.objects.get().sent_at - dt.timedelta(minutes=11))
    with pytest.raises(DomainError) as exc:
        services.phone_code_check(actor=world.manager.user, code=code)
    assert exc.value.code == "expired"


def test_at_most_five_codes_an_hour_per_account(world, sms_file):
    for _ in range(5):
        services.phone_code_send(actor=world.manager.user)
    with pytest.raises(DomainError) as exc:
        services.phone_code_send(actor=world.manager.user)
    assert exc.value.code == "rate_limited"
    assert len(sent_codes(sms_file)) == 5
    services.phone_code_send(actor=world.other_manager.user)  # another account is not limited
    assert len(sent_codes(sms_file)) == 6


def test_a_new_code_replaces_the_old_one(world, sms_file):
    services.phone_code_send(actor=world.manager.user)
    services.phone_code_send(actor=world.manager.user)
    (_p, first), (_p2, second) = sent_codes(sms_file)
    if first != second:
        with pytest.raises(DomainError):
            services.phone_code_check(actor=world.manager.user, code=first)
    services.phone_code_check(actor=world.manager.user, code=second)


def test_a_changed_phone_must_be_verified_again(world, sms_file):
    ManagerProfile.objects.filter(pk=world.manager.pk).update(
        phone_verified_at="2026-01-01T00:00:00+08:00"
    )
    services.profile_save(actor=world.manager.user, data={"phone": "13907439999"})
    world.manager.refresh_from_db()
    assert world.manager.phone_verified_at is None


def test_no_code_when_sms_is_off(world, settings):
    settings.SMS_URL = ""
    with pytest.raises(DomainError):
        services.phone_code_send(actor=world.manager.user)


def test_only_managers_verify_a_phone(world, sms_file):
    with pytest.raises(PermissionDenied):
        services.phone_code_send(actor=world.reviewer)


# --- the pages -----------------------------------------------------------------------------


def test_profile_page_offers_to_verify_and_to_stop_text_messages(world, as_user, sms_file):
    page = as_user(world.manager.user).get(reverse("accounts:profile")).content.decode()
    assert reverse("accounts:phone_code_send") in page
    assert reverse("accounts:sms_opt_out") in page


@pytest.mark.parametrize("name", ["phone_code_send", "phone_code_check", "sms_opt_out"])
def test_phone_pages_need_login_post_and_a_manager(world, as_user, name):
    url = reverse(f"accounts:{name}")
    assert as_user(None).post(url)["Location"].startswith(reverse("account_login"))
    assert as_user(world.manager.user).get(url).status_code == 405
    assert as_user(world.reviewer).post(url).status_code == 403


def test_verifying_through_the_pages(world, as_user, sms_file):
    client = as_user(world.manager.user)
    client.post(reverse("accounts:phone_code_send"))
    page = client.get(reverse("accounts:profile")).content.decode()
    assert reverse("accounts:phone_code_check") in page
    [(_phone, code)] = sent_codes(sms_file)
    response = client.post(reverse("accounts:phone_code_check"), {"code": code})
    assert response.status_code == 302
    world.manager.refresh_from_db()
    assert world.manager.phone_verified_at is not None


def test_stop_and_resume_text_messages(world, as_user):
    client = as_user(world.manager.user)
    client.post(reverse("accounts:sms_opt_out"), {"opt_out": "1"})
    world.manager.refresh_from_db()
    assert world.manager.sms_opt_out
    client.post(reverse("accounts:sms_opt_out"), {"opt_out": "0"})
    world.manager.refresh_from_db()
    assert not world.manager.sms_opt_out
    assert not ManagerProfile.objects.get(pk=world.other_manager.pk).sms_opt_out
