"""The public pages cannot be scraped: the lookup needs the number and the name together (or the
certificate code), a miss never says which field was wrong, and /lookup/ and /verify/ are
limited per client address (the real one behind a trusted proxy). Real Redis, no mocks."""

import re

import pytest
from django.urls import reverse

URL = "/lookup/"


def _look_up(client, **data):
    return client.post(reverse("registry:lookup"), data)


def _without_csrf_tokens(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def test_the_lookup_url_is_where_the_landing_page_points(db):
    assert reverse("registry:lookup") == URL


def test_a_registration_number_alone_finds_nobody(world, as_user):
    manager = world.manager
    client = as_user(None)
    for response in (
        client.get(URL, {"number": manager.registration_number}),
        _look_up(client, number=manager.registration_number),
    ):
        html = response.content.decode()
        assert 'data-testid="lookup-result"' not in html
        assert manager.real_name not in html
    # The form says what it needs.
    assert "请同时填写执业登记号和姓名" in html


def test_a_wrong_name_answers_exactly_as_an_unknown_number(world, as_user):
    client = as_user(None)
    wrong_name = _look_up(client, number=world.manager.registration_number, name="张三")
    unknown = _look_up(client, number="PM2026999999", name="张三")
    other_name = _look_up(client, number=world.manager.registration_number, name="向丽华")
    assert wrong_name.status_code == unknown.status_code == other_name.status_code == 404
    body = _without_csrf_tokens(unknown.content.decode())
    assert 'data-testid="lookup-unknown"' in body
    assert _without_csrf_tokens(wrong_name.content.decode()) == body
    assert _without_csrf_tokens(other_name.content.decode()) == body
    # Nothing typed is echoed back, so the pages cannot differ by it.
    assert world.manager.registration_number not in body and "张三" not in body


def test_the_number_and_the_name_find_the_manager_however_the_name_is_typed(world, as_user):
    manager = world.manager  # 彭建国
    for typed in ("彭建国", " 彭 建国 ", "彭建国\u3000"):
        response = _look_up(as_user(None), number=manager.registration_number.lower(), name=typed)
        html = response.content.decode()
        assert response.status_code == 200, typed
        assert 'data-testid="lookup-result"' in html and manager.real_name in html
        assert world.firm.name in html
        assert manager.id_number not in html and manager.phone not in html


def test_the_certificate_code_finds_the_manager(approved, filing_world, as_user):
    manager = filing_world.manager
    client = as_user(None)
    code = approved.certificate_code
    response = _look_up(client, code=f"{code[:4]}-{code[4:8]}-{code[8:]}".lower())
    html = response.content.decode()
    assert response.status_code == 200 and 'data-testid="lookup-result"' in html
    assert manager.real_name in html and manager.registration_number in html
    miss = _look_up(client, code="ZZZZZZZZZZZZ")
    assert miss.status_code == 404 and 'data-testid="lookup-unknown"' in miss.content.decode()
    # The QR code's page answers too.
    assert client.get(reverse("registry:verify", args=[code])).status_code == 200


def test_the_21st_lookup_in_a_minute_gets_429_with_a_chinese_page(world, as_user, settings):
    assert settings.PUBLIC_LOOKUP_RATE == "20/m,200/d"  # the default
    client = as_user(None)
    for _ in range(20):
        assert _look_up(client, number="PM2026999999", name="张三").status_code == 404
    response = _look_up(client, number=world.manager.registration_number, name="彭建国")
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    html = response.content.decode()
    assert 'lang="zh-CN"' in html and "</nav>" in html  # a page of the site (base.html)
    assert "查询过于频繁" in html and "请于 1 分钟后再试。" in html
    assert world.manager.real_name not in html
    # The empty form costs nothing and still shows.
    assert client.get(URL).status_code == 200


def test_the_day_limit_says_to_come_back_in_24_hours(world, as_user, settings):
    settings.PUBLIC_LOOKUP_RATE = "100/m,3/d"
    client = as_user(None)
    for _ in range(3):
        _look_up(client, number="PM2026999999", name="张三")
    response = _look_up(client, number="PM2026999999", name="张三")
    assert response.status_code == 429 and response["Retry-After"] == "86400"
    assert "请于 24 小时后再试。" in response.content.decode()


def test_the_429_page_is_translated(world, as_user, settings):
    settings.PUBLIC_LOOKUP_RATE = "1/m"
    client = as_user(None)
    client.cookies["django_language"] = "en"
    _look_up(client, number="PM2026999999", name="x")
    html = _look_up(client, number="PM2026999999", name="x").content.decode()
    assert "Too many look-ups" in html and "Please try again in 1 minute." in html


def test_the_certificate_check_is_limited_too(approved, filing_world, as_user, settings):
    settings.PUBLIC_VERIFY_RATE = "5/m"
    client = as_user(None)
    url = reverse("registry:verify", args=[approved.certificate_code])
    # The form and its redirect are not look-ups; scanning a QR code a few times is fine.
    assert client.get(reverse("registry:verify_form")).status_code == 200
    for _ in range(5):
        assert client.get(url).status_code == 200
    response = client.get(reverse("registry:verify", args=["ABCDEFGHJKMN"]))
    assert response.status_code == 429 and response["Retry-After"] == "60"
    assert "查询过于频繁" in response.content.decode()


def test_the_default_certificate_limit_lets_a_busy_office_scan(approved, filing_world, as_user):
    client = as_user(None)
    url = reverse("registry:verify", args=[approved.certificate_code])
    assert all(client.get(url).status_code == 200 for _ in range(60))
    assert client.get(url).status_code == 429


def test_lookup_and_verify_are_counted_apart(approved, filing_world, as_user, settings):
    settings.PUBLIC_LOOKUP_RATE = "1/m"
    client = as_user(None)
    _look_up(client, number="PM2026999999", name="张三")
    assert _look_up(client, number="PM2026999999", name="张三").status_code == 429
    url = reverse("registry:verify", args=[approved.certificate_code])
    assert client.get(url).status_code == 200


def test_the_limits_fail_open_when_redis_is_down(world, as_user, settings):
    """Documented choice (core/throttle.py, README): public pages stay up without Redis."""
    settings.PUBLIC_LOOKUP_RATE = "1/m"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    client = as_user(None)
    for _ in range(3):
        response = _look_up(client, number=world.manager.registration_number, name="彭建国")
        assert response.status_code == 200


# --- behind a proxy: the real client address ---------------------------------------------------


@pytest.mark.parametrize("proxies", [1, 0])
def test_clients_behind_the_trusted_proxy_are_counted_apart(world, as_user, settings, proxies):
    """With one trusted proxy (nginx appending to X-Forwarded-For) each client has its own
    count; with none the header is not trusted and everyone shares REMOTE_ADDR."""
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = proxies
    settings.PUBLIC_LOOKUP_RATE = "1/m"
    client = as_user(None)
    data = {"number": "PM2026999999", "name": "张三"}
    first = client.post(URL, data, HTTP_X_FORWARDED_FOR="203.0.113.7", REMOTE_ADDR="10.0.0.2")
    second = client.post(URL, data, HTTP_X_FORWARDED_FOR="198.51.100.9", REMOTE_ADDR="10.0.0.2")
    assert first.status_code == 404
    if proxies:
        assert second.status_code == 404  # another client
        # A client cannot escape by sending its own header: nginx appends the real address.
        spoofed = client.post(
            URL, data, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7", REMOTE_ADDR="10.0.0.2"
        )
        assert spoofed.status_code == 429
    else:
        assert second.status_code == 429  # the same REMOTE_ADDR
