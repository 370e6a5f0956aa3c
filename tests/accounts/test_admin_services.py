"""What the admin changes goes through services that take the acting official: providers'
status (who and when recorded), jurisdictions (the path of everything below follows a move)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import Jurisdiction
from accounts.services import jurisdiction_save
from core.errors import DomainError
from tests import factories as f
from training.models import Provider
from training.services import provider_status_set


def test_moving_a_prefecture_moves_the_paths_of_its_counties(world):
    admin = f.UserFactory(is_superuser=True, is_staff=True)
    other_province = f.JurisdictionFactory(code="520000", name="贵州省", level="province")
    prefecture = world.prefecture
    prefecture.parent = other_province
    jurisdiction_save(actor=admin, jurisdiction=prefecture)
    world.county.refresh_from_db()
    assert world.county.path == "520000/433100/433101/"
    assert Jurisdiction.objects.filter(path__startswith="430000/433100/").count() == 0


def test_a_jurisdiction_cannot_move_under_its_own_county(world):
    admin = f.UserFactory(is_superuser=True, is_staff=True)
    prefecture = world.prefecture
    prefecture.parent = world.county
    with pytest.raises(DomainError):
        jurisdiction_save(actor=admin, jurisdiction=prefecture)
    world.county.refresh_from_db()
    assert world.county.path == "430000/433100/433101/"


def test_only_administrators_change_jurisdictions(world):
    with pytest.raises(PermissionDenied):
        jurisdiction_save(actor=world.prefecture_bureau, jurisdiction=world.county)


def test_the_admin_saves_a_new_county_with_its_path(world, as_user):
    admin = f.UserFactory(is_superuser=True, is_staff=True)
    response = as_user(admin).post(
        reverse("admin:accounts_jurisdiction_add"),
        {"name": "泸溪县", "code": "433122", "level": "county", "parent": world.prefecture.pk},
    )
    assert response.status_code == 302
    assert Jurisdiction.objects.get(code="433122").path == "430000/433100/433122/"


def test_approving_a_provider_records_the_official_and_the_time(world, as_user):
    provider = f.ProviderFactory(jurisdiction=world.county, status=Provider.Status.PENDING)
    response = as_user(world.bureau).post(
        reverse("admin:training_provider_changelist"),
        {"action": "approve", "_selected_action": [provider.pk]},
    )
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.status == Provider.Status.APPROVED
    assert provider.status_changed_by == world.bureau and provider.status_changed_at
    assert provider.approved_from is not None


def test_a_provider_outside_the_officials_jurisdiction_is_not_changed(world):
    provider = f.ProviderFactory(jurisdiction=world.other_county, status=Provider.Status.PENDING)
    with pytest.raises(PermissionDenied):
        provider_status_set(actor=world.bureau, provider=provider, status=Provider.Status.APPROVED)
    provider.refresh_from_db()
    assert provider.status == Provider.Status.PENDING and provider.status_changed_by is None


def test_suspending_twice_changes_nothing_the_second_time(world):
    provider = f.ProviderFactory(jurisdiction=world.county, status=Provider.Status.APPROVED)
    assert provider_status_set(
        actor=world.bureau, provider=provider, status=Provider.Status.SUSPENDED
    )
    assert not provider_status_set(
        actor=world.bureau, provider=provider, status=Provider.Status.SUSPENDED
    )
