"""axe-core on every main page of each role, at desk (1280 px) and phone (390 px) width: no
serious or critical violation (issue 14, points 6 and 7). A failure lists, page by page, each
violation with the elements it found.

The pages: the public ones, the manager's, the firm reviewer's, bureau staff's in the portal
and in the admin (the filing list, a filing, the return form), the provider's. At 390 px every
page must also fit the screen (no sideways scrolling: the lists become cards); a screenshot of
each page at each width goes to var/screenshots/ (not committed).

One test per role visits all of that role's pages at both widths: each browser test clears the
whole database when it ends (a few seconds on the development machine), so a test per page and
width would cost minutes more for nothing."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests import factories as f
from tests.browser.axe import axe_violations, describe
from tests.browser.journey import build

WIDTHS = [1280, 390]

PAGES = [
    ("public", "/"),
    ("public", "/lookup/"),
    ("public", "/verify/"),
    ("public", "/accounts/login/"),
    ("public", "/accounts/signup/"),
    ("public", "/accounts/password/reset/"),
    ("manager", "/me/"),
    ("manager", "/me/profile/"),
    ("manager", "/me/work-history/add/"),
    ("manager", "/me/hours/"),
    ("manager", "/me/hours/add/"),
    ("manager", "/me/hours/{editable_record}/edit/"),
    ("manager", "/me/hours/audits/{audit}/"),
    ("manager", "/me/filing/"),
    ("manager", "/me/credit/"),
    ("manager", "/courses/"),
    ("manager", "/me/employment/"),
    ("manager", "/notices/"),
    ("manager", "/accounts/password/change/"),
    ("firm", "/firm/"),
    ("firm", "/firm/managers/"),
    ("firm", "/firm/filings/"),
    ("firm", "/firm/filings/{waiting}/"),
    ("firm", "/firm/compliance/"),
    ("firm", "/firm/employment/"),
    ("firm", "/firm/reviewers/"),
    ("firm", "/managers/{manager}/"),
    ("firm", "/notices/"),
    ("bureau", "/bureau/"),
    ("bureau", "/bureau/statistics/"),
    ("bureau", "/managers/{manager}/"),
    ("bureau", "/notices/"),
    ("bureau", "/bureau/audits/"),
    ("bureau", "/bureau/audits/records/?year=2026"),
    ("bureau", "/bureau/audits/records/{audit}/"),
    ("bureau", "/admin/"),
    ("bureau", "/admin/registry/annualfiling/"),
    ("bureau", "/admin/registry/annualfiling/{filing}/change/"),
    ("bureau", "/admin/registry/annualfiling/{filing}/return/"),
    ("provider", "/provider/"),
    ("provider", "/notices/"),
]


@pytest.fixture
def journey(transactional_db, world):
    from django.utils import timezone

    from overview.dashboard import dashboard_refresh, years_to_refresh

    built = build(world)
    built.audit = f.audit_item(world)  # a record of the manager's sampled by an audit
    for year in years_to_refresh(timezone.localdate()):  # the dashboard's charts and tables
        dashboard_refresh(year=year)
    return built


def _user(journey, role):
    w = journey.world
    return {
        "public": None,
        "manager": w.manager.user,
        "firm": w.reviewer,
        "bureau": w.bureau,
        "provider": w.provider_user,
    }[role]


def _ids(journey) -> dict:
    return {
        "manager": journey.world.manager.pk,
        "filing": journey.filing.pk,
        "waiting": journey.waiting.pk,
        "editable_record": journey.editable_record.pk,
        "audit": journey.audit.pk,
    }


def _assert_clean(page, where: str):
    """For the pages reached by a form."""
    violations = axe_violations(page)
    assert not violations, f"axe on {where}:\n{describe(violations)}"


ROLES = ["public", "manager", "firm", "bureau", "provider"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _viewport(page, width):
    page.set_viewport_size({"width": width, "height": 844 if width < 500 else 800})


def _screenshot(page, name: str):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^\w.-]+", "_", name).strip("_")
    page.screenshot(path=str(SCREENSHOTS / f"{safe}.png"), full_page=True)


@pytest.mark.parametrize("role", ROLES)
def test_main_pages_have_no_serious_accessibility_violation(
    role, journey, live_server, page, login_as
):
    user = _user(journey, role)
    if user is not None:
        login_as(user)
    problems = []
    for path in (p for r, p in PAGES if r == role):
        url = path.format(**_ids(journey))
        for width in WIDTHS:
            _viewport(page, width)
            response = page.goto(live_server.url + url)
            assert response.status == 200, f"{url}: {response.status}"
            expect(page.locator("h1").first).to_be_visible()
            _screenshot(page, f"{role}{path}-{width}")  # {placeholders}: one file per page
            violations = axe_violations(page)
            if violations:
                problems.append(f"{url} at {width} px:\n{describe(violations)}")
            if width < 500:
                scroll = page.evaluate("document.documentElement.scrollWidth")
                if scroll > width:
                    problems.append(f"{url} at {width} px scrolls sideways: {scroll} px wide")
    assert not problems, f"{role}'s pages:\n" + "\n".join(problems)


@pytest.mark.parametrize("width", WIDTHS, ids=lambda w: f"{w}px")
def test_public_answers_have_no_serious_accessibility_violation(width, journey, live_server, page):
    """The lookup's answer (a POST) and a certificate's check."""
    from registry import services

    filing = services.filing_bureau_approve(actor=journey.world.bureau, filing=journey.filing)
    manager = journey.world.manager
    manager.refresh_from_db()
    _viewport(page, width)

    page.goto(f"{live_server.url}/lookup/")
    page.fill("#id_number", manager.registration_number)
    page.fill("#id_name", manager.real_name)
    page.locator("[data-testid=lookup-form] button.btn-primary").click()
    expect(page.locator("main")).to_contain_text(manager.registration_number)
    _assert_clean(page, f"the lookup's answer at {width} px")

    page.goto(f"{live_server.url}/verify/{filing.certificate_code}/")
    expect(page.locator("[data-testid=verify-ok]")).to_be_visible()
    _assert_clean(page, f"the certificate check at {width} px")


def test_second_factor_page_has_no_serious_accessibility_violation(
    transactional_db, world, mfa, live_server, page, settings
):
    import uuid

    caches = {name: dict(conf) for name, conf in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"a11y-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches
    mfa(world.bureau)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", world.bureau.email)
    page.fill("input[name=password]", "pw-Test-2026")
    page.locator("form button[type=submit]").filter(has_text="登录").click()
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    for width in WIDTHS:
        _viewport(page, width)
        _assert_clean(page, f"the second-factor page at {width} px")
