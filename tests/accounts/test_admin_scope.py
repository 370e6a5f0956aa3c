"""Bureau staff work in the admin, limited to their jurisdiction and below, behind TOTP."""

import pytest
from django.urls import reverse

from accounts import selectors
from tests import factories as f
from tests.auth import client_for


@pytest.fixture
def bureau(world, mfa):
    mfa(world.bureau)
    mfa(world.other_bureau)
    mfa(world.prefecture_bureau)
    return world


def test_bureau_staff_without_totp_are_sent_to_set_it_up(world):
    response = client_for(world.bureau, second_factor=False).get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))


def test_bureau_staff_without_totp_cannot_reach_any_admin_page(world):
    url = reverse("admin:accounts_managerprofile_change", args=[world.manager.pk])
    response = client_for(world.bureau, second_factor=False).get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))


def test_bureau_staff_with_totp_reach_the_admin(bureau, as_user):
    response = as_user(bureau.bureau).get(reverse("admin:index"))
    assert response.status_code == 200


def test_county_official_sees_only_the_county(bureau, as_user):
    html = (
        as_user(bureau.bureau)
        .get(reverse("admin:accounts_managerprofile_changelist"))
        .content.decode()
    )
    assert bureau.manager.real_name in html
    assert bureau.other_manager.real_name not in html
    # Full ID numbers are shown to the bureau of the manager's jurisdiction.
    assert bureau.manager.id_number in html


def test_prefecture_official_sees_every_county(bureau, as_user):
    html = (
        as_user(bureau.prefecture_bureau)
        .get(reverse("admin:accounts_managerprofile_changelist"))
        .content.decode()
    )
    assert bureau.manager.real_name in html
    assert bureau.other_manager.real_name in html


def test_other_county_cannot_open_the_managers_page(bureau, as_user):
    url = reverse("admin:accounts_managerprofile_change", args=[bureau.manager.pk])
    client = as_user(bureau.other_bureau)
    response = client.get(url)
    # The admin treats an object outside the queryset as missing.
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert bureau.manager.real_name not in page
    assert as_user(bureau.bureau).get(url).status_code == 200


def test_admin_search_by_full_id_number_uses_the_blind_index(bureau, as_user):
    # By POST (an ID number never goes into ?q=: tests/accounts/test_identity_oracles.py).
    url = reverse("admin:accounts_managerprofile_find_by_id_number")
    client = as_user(bureau.bureau)
    response = client.post(url, {"id_number": bureau.manager.id_number})
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:accounts_managerprofile_change", args=[bureau.manager.pk]
    )
    # Another county's manager is not found by ID number either.
    html = client.post(url, {"id_number": bureau.other_manager.id_number}).content.decode()
    assert bureau.other_manager.real_name not in html


def test_jurisdiction_filter_offers_only_own_jurisdictions(bureau, as_user):
    html = as_user(bureau.bureau).get(reverse("admin:accounts_firm_changelist")).content.decode()
    assert bureau.firm.name in html
    assert bureau.other_firm.name not in html
    assert bureau.other_county.name not in html


def test_firm_admin_form_offers_only_own_jurisdictions(bureau, as_user):
    html = as_user(bureau.bureau).get(reverse("admin:accounts_firm_add")).content.decode()
    assert bureau.county.name in html
    assert bureau.other_county.name not in html


def test_firm_reviewers_and_managers_cannot_enter_the_admin(world, as_user):
    for user in (world.reviewer, world.manager.user):
        response = as_user(user).get(reverse("admin:index"))
        assert response.status_code == 302
        assert "admin" not in response["Location"] or "login" in response["Location"]


def test_bureau_staff_cannot_manage_users_or_memberships(bureau, as_user):
    client = as_user(bureau.bureau)
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403
    assert client.get(reverse("admin:accounts_bureaumembership_changelist")).status_code == 403


def test_subtree_is_one_query_at_any_depth(world, django_assert_num_queries):
    deep = world.county
    for i in range(6):
        deep = f.JurisdictionFactory(code=f"4399{i:02d}", parent=deep, level="county")
    with django_assert_num_queries(1):
        names = list(
            selectors.jurisdiction_subtree(jurisdiction=world.prefecture).values_list(
                "name", flat=True
            )
        )
    assert deep.name in names
    assert world.other_county.name in names
    assert world.province.name not in names
