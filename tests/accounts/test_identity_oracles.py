"""No identity oracles: whoever looks a person up by ID number learns nothing they did not type.

A firm's employment offer needs the name and the ID number, and a wrong name answers exactly as
an unknown number; the provider's import does the same per row; the sign-up answers a taken
number without saying it is registered. Every such look-up is limited per account (refused when
Redis is down) and recorded for the bureau of the area, and an ID number is never searched for
through an address (GET query string)."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import Employment, IdentityLookup, ManagerProfile
from accounts.selectors import identity_lookup_list_for
from accounts.services import id_number_hash
from core.errors import DomainError
from tests import factories as f
from tests.training.test_imports import Row, csv_bytes, import_file, make_course

OFFER_URL = reverse("accounts:firm_employment")


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def free_manager(world):
    """A registered manager with no firm yet: the one a firm would offer employment to."""
    return f.ManagerProfileFactory(real_name="龙海燕")


def _offer(client, *, name, id_number):
    return client.post(OFFER_URL, {"real_name": name, "id_number": id_number, "position": "经理"})


def _page_without(html: str, *secrets: str) -> str:
    """The page with what differs by construction taken out: the CSRF token and the typed ID."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    for secret in secrets:
        html = html.replace(secret, "<typed>")
    return html


# --- the firm's offer ------------------------------------------------------------------------


def test_firm_offer_with_a_wrong_name_answers_exactly_like_an_unknown_id_number(
    world, free_manager, as_user
):
    client = english(as_user(world.reviewer))
    unknown = f.make_id_number()

    wrong_name = _offer(client, name="张冒名", id_number=free_manager.id_number)
    nobody = _offer(client, name="张冒名", id_number=unknown)

    assert wrong_name.status_code == nobody.status_code == 200
    assert "No registered manager has this name and ID number." in wrong_name.content.decode()
    assert _page_without(wrong_name.content.decode(), free_manager.id_number) == _page_without(
        nobody.content.decode(), unknown
    )
    assert not Employment.objects.filter(manager=free_manager).exists()


def test_firm_offer_answers_never_contain_the_registered_name(world, free_manager, as_user):
    client = english(as_user(world.reviewer))
    html = _offer(client, name="张冒名", id_number=free_manager.id_number).content.decode()
    assert free_manager.real_name not in html
    assert free_manager.registration_number not in html

    # The right name and number: the offer is made, and the message repeats what was typed.
    typed = "龙 海燕"
    response = _offer(client, name=typed, id_number=free_manager.id_number)
    assert response.status_code == 302
    assert Employment.objects.get(manager=free_manager).status == Employment.Status.OFFERED
    message = [str(m) for m in response.wsgi_request._messages]
    assert message == [f"{typed} was asked to confirm the employment."]
    assert free_manager.registration_number not in message[0]


def test_the_11th_look_up_within_the_window_is_refused(world, free_manager, as_user):
    client = english(as_user(world.reviewer))
    for _ in range(10):
        html = _offer(client, name="张三", id_number=f.make_id_number()).content.decode()
        assert "No registered manager has this name and ID number." in html

    # Even the right name and number are not looked up any more.
    html = _offer(client, name=free_manager.real_name, id_number=free_manager.id_number)
    html = html.content.decode()
    assert "Too many look-ups by ID number" in html
    assert not Employment.objects.filter(manager=free_manager).exists()
    assert IdentityLookup.objects.filter(actor=world.reviewer).count() == 10
    # Another firm's account has its own count.
    other = _offer(
        english(as_user(world.other_reviewer)),
        name=free_manager.real_name,
        id_number=free_manager.id_number,
    )
    assert other.status_code == 302


def test_look_ups_are_refused_while_redis_is_down(world, free_manager, as_user, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    client = english(as_user(world.reviewer))
    html = _offer(client, name=free_manager.real_name, id_number=free_manager.id_number)
    assert "Too many look-ups by ID number" in html.content.decode()
    assert not Employment.objects.filter(manager=free_manager).exists()


# --- the record of look-ups ------------------------------------------------------------------------


@pytest.fixture
def staff(world, mfa):
    for user in (world.bureau, world.other_bureau, world.prefecture_bureau):
        mfa(user)
    return world


def test_a_look_up_is_recorded_and_shown_to_the_county_bureau_not_another_county(
    staff, free_manager, as_user
):
    world = staff
    _offer(as_user(world.reviewer), name="张冒名", id_number=free_manager.id_number)

    lookup = IdentityLookup.objects.get()
    assert lookup.actor == world.reviewer
    assert lookup.kind == IdentityLookup.Kind.FIRM_OFFER
    assert lookup.id_number_masked == free_manager.masked_id_number
    assert lookup.id_number_hash == id_number_hash(free_manager.id_number)
    assert lookup.name_typed == "张冒名"
    assert lookup.matched is False
    assert lookup.jurisdiction == world.county  # the firm's
    assert lookup.manager == free_manager
    assert lookup.created_at is not None

    changelist = reverse("admin:accounts_identitylookup_changelist")
    change = reverse("admin:accounts_identitylookup_change", args=[lookup.pk])
    html = as_user(world.bureau).get(changelist).content.decode()
    assert free_manager.masked_id_number in html and "张冒名" in html
    assert free_manager.id_number not in html
    assert as_user(world.bureau).get(change).status_code == 200
    assert "张冒名" in as_user(world.prefecture_bureau).get(changelist).content.decode()

    other = as_user(world.other_bureau)
    assert "张冒名" not in other.get(changelist).content.decode()
    assert other.get(change).status_code == 302  # the admin's "does not exist"
    # Read-only, even for the county.
    assert as_user(world.bureau).post(change, {"name_typed": "x"}).status_code == 403
    assert not IdentityLookup.objects.exclude(name_typed="张冒名").exists()


def test_the_holders_bureau_sees_a_look_up_made_from_another_county(staff, as_user):
    world = staff
    # A firm of 凤凰县 tries the number of 吉首市's manager.
    _offer(as_user(world.other_reviewer), name="张冒名", id_number=world.manager.id_number)
    changelist = reverse("admin:accounts_identitylookup_changelist")
    assert "张冒名" in as_user(world.bureau).get(changelist).content.decode()
    assert "张冒名" in as_user(world.other_bureau).get(changelist).content.decode()


def test_firms_and_managers_cannot_read_look_ups(world, free_manager, as_user):
    _offer(as_user(world.reviewer), name="张冒名", id_number=free_manager.id_number)
    url = reverse("admin:accounts_identitylookup_changelist")
    for user in (world.reviewer, world.manager.user, world.provider_user):
        assert as_user(user).get(url).status_code == 302  # to the admin login


# --- no ID number in an address ------------------------------------------------------------------


def test_admin_search_does_not_accept_an_id_number_in_the_query_string(staff, as_user):
    world = staff
    client = english(as_user(world.bureau))
    url = reverse("admin:accounts_managerprofile_changelist")
    html = client.get(url, {"q": world.manager.id_number}).content.decode()
    assert world.manager.real_name not in html
    assert "Find by ID number" in html and "never put in a web address" in html
    # Lower-case x, spaces: still an ID number, still refused.
    spaced = " ".join(world.manager.id_number[i : i + 6] for i in (0, 6, 12)).lower()
    assert world.manager.real_name not in client.get(url, {"q": spaced}).content.decode()
    # The other searches still work.
    assert world.manager.real_name in client.get(url, {"q": "彭建国"}).content.decode()
    assert not IdentityLookup.objects.exists()


def test_admin_finds_a_manager_by_id_number_through_a_post_form_and_records_it(staff, as_user):
    world = staff
    client = english(as_user(world.bureau))
    url = reverse("admin:accounts_managerprofile_find_by_id_number")
    page = client.get(reverse("admin:accounts_managerprofile_changelist")).content.decode()
    assert f'action="{url}"' in page and 'method="post"' in page

    assert client.get(url).status_code == 200  # the form, nothing looked up
    assert not IdentityLookup.objects.exists()
    response = client.post(url, {"id_number": world.manager.id_number})
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:accounts_managerprofile_change", args=[world.manager.pk]
    )
    html = client.post(url, {"id_number": world.other_manager.id_number}).content.decode()
    assert "No manager in your jurisdiction has this ID number." in html
    assert world.other_manager.real_name not in html
    assert list(IdentityLookup.objects.order_by("pk").values_list("kind", "matched")) == [
        ("admin_search", True),
        ("admin_search", False),
    ]


def test_firm_search_does_not_accept_an_id_number_in_the_query_string(world, as_user):
    client = english(as_user(world.reviewer))
    url = reverse("overview:firm_managers")
    html = client.get(url, {"q": world.manager.id_number}).content.decode()
    assert world.manager.real_name not in html
    assert "never put in a web address" in html
    assert world.manager.real_name in client.get(url, {"q": "彭建国"}).content.decode()
    # The page's ID-number search is a POST form.
    page = client.get(url).content.decode()
    form = re.search(r'<form[^>]*id="find-by-id-number"[^>]*>', page).group(0)
    assert 'method="post"' in form


def test_firm_finds_its_own_manager_by_id_number_through_a_post_form(world, as_user):
    client = english(as_user(world.reviewer))
    url = reverse("accounts:firm_manager_find")
    assert client.get(url, {"id_number": world.manager.id_number}).status_code == 405
    response = client.post(url, {"id_number": world.manager.id_number})
    assert response.status_code == 302
    assert response["Location"] == reverse("overview:manager_detail", args=[world.manager.pk])
    # Another firm's manager is not found, and the answer names nobody.
    response = client.post(url, {"id_number": world.other_manager.id_number}, follow=True)
    html = response.content.decode()
    assert "current managers has this ID number." in html
    assert world.other_manager.real_name not in html
    assert list(IdentityLookup.objects.order_by("pk").values_list("kind", "matched")) == [
        ("firm_search", True),
        ("firm_search", False),
    ]
    assert IdentityLookup.objects.filter(jurisdiction=world.county).count() == 2


# --- the manager's sign-up -----------------------------------------------------------------------


def _sign_up(client, id_number, name="田小军"):
    return client.post(
        reverse("accounts:profile"),
        {
            "real_name": name,
            "id_number": id_number,
            "phone": "13907431234",
            "education": "bachelor",
            "title": "junior",
            "skill_level": "level3",
            "certificate_number": "",
        },
    )


def test_sign_up_with_a_taken_id_number_gets_a_neutral_answer_and_is_recorded(world, as_user):
    newcomer = f.UserFactory()
    client = english(as_user(newcomer))
    for name in ("田小军", world.manager.real_name):
        response = _sign_up(client, world.manager.id_number, name=name)
        assert response.status_code == 200
        html = response.content.decode()
        assert "cannot be registered online" in html and "housing bureau" in html
        assert "already registered" not in html
        assert world.manager.real_name not in html.replace(f'value="{name}"', "")
    assert not ManagerProfile.objects.filter(user=newcomer).exists()

    lookups = IdentityLookup.objects.filter(actor=newcomer, kind="profile")
    assert lookups.count() == 2
    assert set(lookups.values_list("manager", "matched")) == {(world.manager.pk, True)}
    # The holder's bureau sees the tries (the newcomer has no jurisdiction of his own).
    assert identity_lookup_list_for(user=world.bureau).count() == 2
    assert identity_lookup_list_for(user=world.other_bureau).count() == 0


def test_sign_up_tries_are_limited_per_account(world, as_user):
    newcomer = f.UserFactory()
    client = english(as_user(newcomer))
    for _ in range(10):
        _sign_up(client, f.ManagerProfileFactory().id_number)
    html = _sign_up(client, f.make_id_number()).content.decode()
    assert "Too many look-ups by ID number" in html
    assert not ManagerProfile.objects.filter(user=newcomer).exists()


# --- the provider's import ---------------------------------------------------------------------------


def test_import_rows_do_not_tell_an_unknown_id_number_from_another_name(world):
    provider = world.provider_user.provider_staff.provider
    course = make_course(provider, "XX2026-900")
    rows = [
        Row(world.manager.id_number, "张冒名", course.code, "2026-03-15"),  # registered, other name
        Row(f.make_id_number(), "张冒名", course.code, "2026-03-15"),  # nobody's
    ]
    result = import_file(world, csv_bytes(rows))
    (registered, unknown) = result.errors
    assert (registered.column, registered.message) == (unknown.column, unknown.message)
    assert registered.message == "No registered manager has this ID number and name."
    assert world.manager.real_name not in result.report.error_report
    lookups = IdentityLookup.objects.filter(kind="provider_import").order_by("pk")
    assert [(x.manager_id, x.matched, x.name_typed) for x in lookups] == [
        (world.manager.pk, False, "张冒名"),
        (None, False, "张冒名"),
    ]
    assert {x.jurisdiction for x in lookups} == {world.prefecture}  # the provider's


def test_import_files_are_limited_per_account(world, settings):
    settings.IDENTITY_LOOKUP_IMPORT_LIMIT = 2
    provider = world.provider_user.provider_staff.provider
    course = make_course(provider, "XX2026-901")
    for day in (1, 2):
        result = import_file(
            world, csv_bytes([Row(f.make_id_number(), "甲", course.code, f"2026-03-0{day}")])
        )
        assert result.errors
    with pytest.raises(DomainError) as exc:
        import_file(
            world, csv_bytes([Row(world.manager.id_number, "彭建国", course.code, "2026-03-03")])
        )
    assert exc.value.code == "rate_limited"
