import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_login_page_is_chinese_by_default(client):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="zh-CN"' in html
    assert "登录" in html


@pytest.mark.django_db
def test_browser_asking_for_english_gets_english(client):
    response = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert 'lang="en"' in html
    assert "Sign In" in html or "Log in" in html


@pytest.mark.django_db
def test_language_can_be_switched_from_any_page(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    html = client.get(reverse("account_login")).content.decode()
    assert 'lang="en"' in html
    # The switcher is on the page itself.
    assert 'id="language-select"' in html


@pytest.mark.django_db
def test_admin_login_goes_through_the_portal_login(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    follow = client.get(response["Location"])
    # allauth's secure_admin_login sends visitors to the portal's own login page.
    assert follow.status_code in (200, 302)
    final = client.get(reverse("admin:login"))
    assert final.status_code == 302
    assert final["Location"].startswith(reverse("account_login"))
