"""The annual filing from start to certificate, in a real browser, as each role in turn: the
manager files, the firm returns it with a reason, the manager fixes and resubmits, the firm
forwards it, the county bureau approves it in the admin (after two-factor log-in), the manager
downloads the certificate and an anonymous visitor checks its code.

Every role logs in through the real log-in form (and the bureau through the TOTP step too); the
cookies are cleared between roles, as if each person used their own computer."""

import re
import shutil
import subprocess
import time
import uuid

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests import factories as f

PASSWORD = "pw-Test-2026"  # tests.factories.UserFactory's password
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # tests.conftest.mfa's secret
KINDS = ["id_card", "diploma", "title", "ce", "contract"]
COLOURS = {
    "id_card": "red",
    "diploma": "green",
    "title": "blue",
    "ce": "yellow",
    "contract": "gray",
}
REASON = "劳动合同照片模糊，请重新上传清晰的劳动合同。"


@pytest.fixture
def _own_cache(settings):
    """A cache key prefix of this test's own: a TOTP code is accepted once per user and period
    (allauth keeps used codes in the cache for 30 s) and log-ins are rate-limited per IP, so
    neither a rerun within 30 s nor a concurrent test run may share these keys with this one."""
    caches = {name: dict(conf) for name, conf in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"walkthrough-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches


def _totp_code() -> str:
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    period = app_settings.TOTP_PERIOD
    if period - time.time() % period < 2:  # too close to the next period: wait for it
        time.sleep(period - time.time() % period + 0.1)
    return format_hotp_value(hotp_value(TOTP_SECRET, int(time.time()) // period))


def _log_in(page, base: str, user, *, start: str = "/accounts/login/") -> None:
    """Log `user` in through the log-in form (opened from `start`), as a fresh visitor."""
    page.context.clear_cookies()
    page.goto(base + start)
    page.wait_for_url(re.compile(r"/accounts/login/"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").filter(has_text="登录").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def _upload(page, kind: str, path) -> None:
    item = page.locator(f"[data-testid=checklist-{kind}]")
    page.set_input_files(f"#file-{kind}", str(path))
    page.click(f"[data-testid=upload-{kind}]")
    # The page reloads with the new file listed against its kind.
    expect(item.locator("a")).to_have_text(path.name)
    expect(item.locator(".bi-check-circle-fill")).to_be_visible()


def _badge(page):
    return page.locator("[data-testid=notices-link] .badge")


def test_annual_filing_walkthrough(
    transactional_db, _own_cache, world, mfa, live_server, page, tmp_path
):
    from notifications.models import Notice
    from registry.models import AnnualFiling
    from registry.pdf import format_code
    from registry.selectors import current_filing_year

    base = live_server.url
    manager = world.manager
    year = current_filing_year(manager=manager, today=timezone.localdate())
    f.open_window(world.province, year)
    mfa(world.bureau)
    files = {}
    for kind in KINDS:
        files[kind] = tmp_path / f"{kind}.png"
        files[kind].write_bytes(f.png_bytes(COLOURS[kind]))
    new_contract = tmp_path / "劳动合同-清晰.png"
    new_contract.write_bytes(f.png_bytes("white"))

    # 1. The manager starts the filing, uploads the five proofs and submits it.
    _log_in(page, base, manager.user)
    page.wait_for_url(re.compile(r"/me/$"))
    expect(_badge(page)).to_have_count(0)  # no notices yet
    page.locator("nav a.nav-link[href='/me/filing/']").click()
    page.wait_for_url(re.compile(r"/me/filing/$"))
    expect(page.locator("#year-select")).to_have_value(str(year))
    page.click("[data-testid=start-filing]")
    page.wait_for_url(re.compile(rf"/me/filing/\?year={year}$"))
    expect(page.locator("[data-testid=filing-status]")).to_be_visible()
    filing = AnnualFiling.objects.get(manager=manager, year=year)
    assert filing.status == AnnualFiling.Status.DRAFT
    expect(page.locator("[data-testid=submit-filing]")).to_be_disabled()
    for kind in KINDS:
        _upload(page, kind, files[kind])
    expect(page.locator("[data-testid=submit-problems]")).to_have_count(0)
    page.click("[data-testid=submit-filing]")
    expect(page.locator("[data-testid=withdraw-filing]")).to_be_visible()
    filing.refresh_from_db()
    assert filing.status == AnnualFiling.Status.AWAITING_FIRM
    assert filing.round == 1

    # 2. The firm's reviewer opens the filing from the queue and returns it with a reason.
    _log_in(page, base, world.reviewer)
    page.locator("nav a.nav-link[href='/firm/filings/']").click()
    page.wait_for_url(re.compile(r"/firm/filings/$"))
    row = page.locator("tbody tr").filter(has_text=manager.real_name)
    expect(row).to_have_count(1)
    row.locator(f"a[href='/firm/filings/{filing.pk}/']").click()
    page.wait_for_url(re.compile(rf"/firm/filings/{filing.pk}/$"))
    expect(page.locator("h1")).to_contain_text(manager.real_name)
    for kind in KINDS:
        expect(page.locator(f"[data-testid=proof-{kind}]")).to_contain_text(files[kind].name)
    # The proofs are shown inline: the reviewer's browser really gets the image.
    image = page.locator("[data-testid=proof-id_card] img")
    image.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth === 40", arg=image.element_handle()
    )
    page.fill("#id_reason", REASON)
    page.click("[data-testid=firm-return]")
    page.wait_for_url(re.compile(r"/firm/filings/$"))
    expect(page.get_by_role("alert").first).to_contain_text(manager.real_name)
    expect(page.locator("tbody tr").filter(has_text=manager.real_name)).to_have_count(0)
    filing.refresh_from_db()
    assert filing.status == AnnualFiling.Status.RETURNED
    assert filing.return_reason == REASON

    # 3. The manager sees an unread notice and the reason, replaces the contract, resubmits.
    _log_in(page, base, manager.user)
    page.wait_for_url(re.compile(r"/me/$"))
    unread = Notice.objects.filter(recipient=manager.user, read_at__isnull=True)
    assert unread.filter(kind=Notice.Kind.FILING_RETURNED, year=filing.year).exists()
    expect(_badge(page)).to_have_text(str(unread.count()))
    page.locator("nav a.nav-link[href='/me/filing/']").click()
    page.wait_for_url(re.compile(r"/me/filing/$"))
    expect(page.locator("[data-testid=return-reason]")).to_contain_text(REASON)
    # The reason comes first, above the checklist.
    reason_box = page.locator("[data-testid=return-reason]").bounding_box()
    checklist_box = page.locator("[data-testid=checklist-id_card]").bounding_box()
    assert reason_box["y"] < checklist_box["y"]
    _upload(page, "contract", new_contract)
    expect(page.locator("details summary")).to_contain_text("(1)")  # the replaced file is kept
    page.click("[data-testid=submit-filing]")
    expect(page.locator("[data-testid=withdraw-filing]")).to_be_visible()
    expect(page.locator("[data-testid=return-reason]")).to_have_count(0)
    filing.refresh_from_db()
    assert filing.status == AnnualFiling.Status.AWAITING_FIRM
    assert filing.round == 2

    # 4. The reviewer approves it and forwards it to the bureau.
    _log_in(page, base, world.reviewer)
    page.goto(f"{base}/firm/filings/")
    page.locator("tbody tr").filter(has_text=manager.real_name).locator(
        f"a[href='/firm/filings/{filing.pk}/']"
    ).click()
    page.wait_for_url(re.compile(rf"/firm/filings/{filing.pk}/$"))
    expect(page.locator("[data-testid=proof-contract]")).to_contain_text(new_contract.name)
    page.click("[data-testid=firm-approve]")
    page.wait_for_url(re.compile(r"/firm/filings/$"))
    expect(page.get_by_role("alert").first).to_contain_text(manager.real_name)
    filing.refresh_from_db()
    assert filing.status == AnnualFiling.Status.AWAITING_BUREAU

    # 5. The county bureau logs into the admin with its TOTP code and approves the filing.
    _log_in(page, base, world.bureau, start="/admin/")
    page.wait_for_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.fill("input[name=code]", _totp_code())
    page.locator("form:has(input[name=code]) button[type=submit].btn-primary").click()
    page.wait_for_url(re.compile(r"/admin/$"))
    page.goto(f"{base}/admin/registry/annualfiling/{filing.pk}/change/")
    expect(page.locator("[data-testid=proof-contract]")).to_contain_text(new_contract.name)
    approve = page.locator("[data-testid=bureau-approve]")
    # The button must post to the approve view, not to the admin's own change form.
    action = approve.evaluate("button => button.form.action")
    assert action.endswith(f"/admin/registry/annualfiling/{filing.pk}/approve/"), (
        f"the approve button posts to {action}: its <form> is nested in the admin's change form"
    )
    approve.click()
    page.wait_for_url(re.compile(rf"/admin/registry/annualfiling/{filing.pk}/change/$"))
    expect(page.locator("ul.messagelist li.success")).to_be_visible()
    expect(page.locator("[data-testid=bureau-approve]")).to_have_count(0)
    filing.refresh_from_db()
    assert filing.status == AnnualFiling.Status.APPROVED
    code = filing.certificate_code
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{12}", code), code

    # 6. The manager downloads the certificate: a PDF carrying the code.
    _log_in(page, base, manager.user)
    page.goto(f"{base}/me/filing/")
    expect(page.locator("[data-testid=filing-status]")).to_be_visible()
    with page.expect_download() as download_info:
        page.click("[data-testid=download-certificate]")
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    pdf_path = tmp_path / "certificate.pdf"
    download.save_as(pdf_path)
    assert pdf_path.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(pdf_path), "-"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout
        assert format_code(code) in text, text

    # 7. An anonymous visitor checks the code as printed, then a code that does not exist.
    page.context.clear_cookies()
    page.goto(f"{base}/verify/")
    page.fill("#id_code", format_code(code))
    page.locator("form[action='/verify/'] button").click()
    page.wait_for_url(re.compile(rf"/verify/{code}/$"))
    expect(page.locator("[data-testid=verify-ok]")).to_contain_text(manager.real_name)
    expect(page.locator("[data-testid=verify-ok]")).to_contain_text(format_code(code))
    expect(page.locator("[data-testid=notices-link]")).to_have_count(0)  # not logged in

    unknown = "2222-3333-4444" if code != "222233334444" else "5555-6666-7777"
    page.fill("#id_code", unknown)
    page.locator("form[action='/verify/'] button").click()
    page.wait_for_url(re.compile(rf"/verify/{unknown.replace('-', '')}/$"))
    expect(page.locator("[data-testid=verify-unknown]")).to_be_visible()
    expect(page.locator("[data-testid=verify-ok]")).to_have_count(0)
