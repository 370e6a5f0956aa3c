"""Playwright harness for the browser tests: Debian's Chromium, driven through the sync API
against pytest-django's `live_server`.

Browser tests need `transactional_db` (the live server runs in another thread and only sees
committed data): request it before any fixture that depends on `db`, e.g. `world`.

Without /usr/bin/chromium the tests are skipped, unless CI or PORTAL_REQUIRE_BROWSER is set,
in which case they fail.
"""

import os
import re
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; Django would otherwise refuse
# ORM calls made from the test (factories, assertions) as "async unsafe".
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
TIMEOUT_MS = 15_000
BROWSER_DIR = Path(__file__).resolve().parent
ARTIFACTS = BROWSER_DIR.parents[1] / "var" / "test-artifacts"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if BROWSER_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the item so that `page` can tell whether the test failed.
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _browser_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("PORTAL_REQUIRE_BROWSER"))


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if _browser_required():
            pytest.fail(f"{reason}; CI or PORTAL_REQUIRE_BROWSER requires the browser tests")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    context = browser.new_context(locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN"})
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        try:
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        except Exception as exc:  # a screenshot must never hide the real failure
            print(f"could not save a screenshot: {exc}")
    context.close()


@pytest.fixture
def login_as(page, live_server):
    """`login_as(user)` puts a session cookie for `user` into the page's context (no form).
    Staff sessions have passed the second factor (tests/auth.py)."""
    from django.conf import settings

    from tests.auth import client_for

    def login(user):
        client = client_for(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
        )
        return user

    return login
