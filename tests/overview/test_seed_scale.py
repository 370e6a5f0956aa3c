"""seed_scale builds a province in one command: every state, consistent rows, usable accounts,
and nothing twice when run again."""

import io

import pytest
from allauth.mfa.models import Authenticator
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from accounts.models import BureauMembership, Firm, FirmMembership, Jurisdiction, ManagerProfile
from accounts.services import id_number_hash
from accounts.validators import id_number_check_char
from notifications.models import Notice
from registry.models import AnnualFiling, CreditEntry, FilingProof, RegistryStatus, ReviewEvent
from training.models import StudyRecord

PASSWORD = "Scale-2026-portal"


def seed(settings, **options) -> str:
    settings.DEBUG = True
    out = io.StringIO()
    call_command("seed_scale", stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


def counts() -> list[int]:
    return [
        m.objects.count()
        for m in (ManagerProfile, Firm, StudyRecord, AnnualFiling, ReviewEvent, Notice)
    ]


@pytest.mark.django_db
def test_seed_scale_builds_a_province_with_every_state(settings):
    output = seed(settings, managers=600, firms=12)
    assert ManagerProfile.objects.filter(user__email__endswith="@scale.example.cn").count() == 600
    assert Jurisdiction.objects.filter(level="county").count() == 122
    assert Jurisdiction.objects.filter(level="prefecture").count() == 14
    assert StudyRecord.objects.count() == 6000
    statuses = set(AnnualFiling.objects.values_list("status", flat=True))
    # Every state of the workflow; a revocation (rare, by hand) is not seeded.
    assert statuses == set(AnnualFiling.Status.values) - {AnnualFiling.Status.REVOKED}
    # Submitted filings carry a snapshot, their five proofs and their events; approved ones a code.
    submitted = AnnualFiling.objects.exclude(status="draft")
    assert not submitted.filter(snapshot={}).exists()
    assert not submitted.filter(round=0).exists()
    one = submitted.first()
    assert FilingProof.objects.filter(filing=one, replaced_at__isnull=True).count() == 5
    assert ReviewEvent.objects.filter(filing=one).count() >= 2
    assert not AnnualFiling.objects.filter(status="approved", certificate_code=None).exists()
    # The closed year: every manager has a status and its credit-record entry.
    assert RegistryStatus.objects.count() == 600 == CreditEntry.objects.count()
    assert Notice.objects.count() > 600
    assert not Notice.objects.exclude(email_state="sent").exists()  # nothing for the workers
    # Firms of very unequal size, each with its reviewer; bureau staff at every level, with TOTP.
    assert FirmMembership.objects.count() >= 12
    assert BureauMembership.objects.count() == 1 + 14 + 122 + 1
    assert Authenticator.objects.filter(type="totp").count() == BureauMembership.objects.count()
    assert "password Scale-2026-portal" in output


@pytest.mark.django_db
def test_seeded_id_numbers_are_encrypted_valid_and_indexed(settings):
    seed(settings, managers=50, firms=3)
    for manager in ManagerProfile.objects.all()[:20]:
        number = manager.id_number
        assert len(number) == 18 and number[-1] == id_number_check_char(number[:17])
        assert manager.id_number_hash == id_number_hash(number)
    stored = ManagerProfile.objects.values_list("id_number", flat=True).first()
    with connection.cursor() as cursor:  # the raw column, not the decrypted field
        cursor.execute("SELECT id_number FROM accounts_managerprofile LIMIT 1")
        assert cursor.fetchone()[0] != stored  # what is stored is not the number


@pytest.mark.django_db
def test_seed_scale_is_idempotent(settings):
    seed(settings, managers=50, firms=3)
    first = counts()
    output = seed(settings, managers=50, firms=3)
    assert counts() == first
    assert "nothing to do" in output


@pytest.mark.django_db
def test_seed_scale_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_scale", managers=50, firms=3, stdout=io.StringIO())


@pytest.mark.django_db
def test_the_printed_accounts_log_in(settings, client):
    seed(settings, managers=50, firms=3)
    out = io.StringIO()
    call_command("seed_scale", print_accounts=True, stdout=out)
    lines = [line.split() for line in out.getvalue().splitlines()]
    roles = {parts[0] for parts in lines if parts}
    assert {"password", "totp", "manager", "firm", "bureau", "public"} <= roles
    manager = next(parts[1] for parts in lines if parts[0] == "manager")
    answer = client.post(reverse("account_login"), {"login": manager, "password": PASSWORD})
    assert answer.status_code == 302
    assert client.get(reverse("overview:manager_dashboard")).status_code == 200
    number, name, code = next(parts[1:4] for parts in lines if parts[0] == "public")
    settings.PUBLIC_LOOKUP_RATE = ""
    found = client.post(reverse("registry:lookup"), {"number": number, "name": name, "code": ""})
    assert found.status_code == 200
    assert client.get(reverse("registry:verify", args=[code])).status_code == 200
