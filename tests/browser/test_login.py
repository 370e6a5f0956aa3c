"""Log-in, sign-up with profile completion and the language switcher, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from tests import factories as f

PASSWORD = "pw-Test-2026"


@pytest.fixture
def manager(transactional_db):
    return f.ManagerProfileFactory(real_name="彭建国")


def test_login_page_is_chinese(transactional_db, live_server, page):
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_contain_text("登录")


def test_manager_logs_in(manager, live_server, page):
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_contain_text("登录")

    page.fill("input[name=login]", manager.user.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").filter(has_text="登录").click()

    page.wait_for_url(re.compile(r"/me/$"))
    expect(page.get_by_test_id("registration-state")).to_have_text(manager.registration_number)
    expect(page.locator("h1")).to_contain_text("彭建国")


def test_visitor_signs_up_and_completes_profile(transactional_db, live_server, page):
    page.goto(f"{live_server.url}/accounts/signup/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.fill("input[name=email]", "new.manager@example.cn")
    page.fill("input[name=password1]", "Wuye-Guanli-2026!")
    page.fill("input[name=password2]", "Wuye-Guanli-2026!")
    page.locator("form button[type=submit]").click()

    page.wait_for_url(re.compile(r"/me/profile/$"))
    page.fill("#id_real_name", "田小梅")
    page.fill("#id_id_number", f.make_id_number())
    page.fill("#id_phone", "13907431234")
    page.select_option("#id_education", "bachelor")
    page.locator("form button[type=submit].btn-primary").click()

    page.wait_for_url(re.compile(r"/me/$"))
    # No registration number yet: it is issued once a firm confirms the employment (and, where
    # the bureau requires it, an official approves).
    state = page.get_by_test_id("registration-state")
    expect(state).to_contain_text("确认")
    expect(state).not_to_contain_text("PM")


def test_language_switch_to_english(manager, login_as, live_server, page):
    login_as(manager.user)
    page.goto(f"{live_server.url}/me/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    page.select_option("#language-select", "en")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.wait_for_url(re.compile(r"/me/$"))
    expect(page.locator("#language-select")).to_have_value("en")
    expect(page.get_by_test_id("registration-state")).to_have_text(manager.registration_number)
