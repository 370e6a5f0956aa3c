import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import (
    BureauMembership,
    Employment,
    Firm,
    FirmMembership,
    Jurisdiction,
    ManagerProfile,
    User,
)
from training.models import ProviderStaff


def seed(settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts():
    return [m.objects.count() for m in (User, Jurisdiction, Firm, ManagerProfile, Employment)]


@pytest.mark.django_db
def test_seed_demo_is_idempotent(settings):
    output = seed(settings)
    first = counts()
    seed(settings)
    assert counts() == first
    assert "manager1@demo.example.cn" in output


@pytest.mark.django_db
def test_seed_demo_builds_xiangxi_with_two_accounts_per_role(settings):
    seed(settings)
    prefecture = Jurisdiction.objects.get(name="湘西土家族苗族自治州")
    assert prefecture.parent.name == "湖南省"
    assert prefecture.children.count() == 8
    # Two of each role, in different firms or counties.
    reviewers = FirmMembership.objects.filter(
        user__email__in=["firm1@demo.example.cn", "firm2@demo.example.cn"]
    )
    assert len({m.firm_id for m in reviewers}) == 2
    bureaus = BureauMembership.objects.filter(
        user__email__in=["bureau1@demo.example.cn", "bureau2@demo.example.cn"]
    )
    assert len({m.jurisdiction_id for m in bureaus}) == 2
    providers = ProviderStaff.objects.filter(user__email__startswith="provider")
    assert len({p.provider_id for p in providers}) == 2
    managers = ManagerProfile.objects.filter(
        user__email__in=["manager1@demo.example.cn", "manager2@demo.example.cn"]
    )
    assert len({m.jurisdiction_id for m in managers}) == 2
    # Pending employment requests in both directions, for trying the flow by hand.
    assert Employment.objects.filter(status="requested").exists()
    assert Employment.objects.filter(status="offered").exists()


@pytest.mark.django_db
def test_seed_demo_refuses_to_run_with_debug_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo", stdout=io.StringIO())
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_demo_accounts_log_in_with_the_shared_password(settings, client):
    seed(settings)
    from overview.management.commands.seed_demo import DEMO_ACCOUNTS, DEMO_PASSWORD

    for email, _role, _detail in DEMO_ACCOUNTS:
        response = client.post("/accounts/login/", {"login": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email
        client.post("/accounts/logout/")
