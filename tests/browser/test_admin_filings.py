"""The bureau's filing pages in the admin at 1280 px (issue 14, point 9): the list's status
reads on one line and no column is cut off; the snapshot's labels never run into their
values; the pages are headed for review."""

from playwright.sync_api import expect

from tests.browser.journey import build


def test_filing_list_and_detail_read_whole_at_1280_px(
    transactional_db, world, live_server, page, login_as
):
    journey = build(world)
    login_as(world.bureau)
    page.set_viewport_size({"width": 1280, "height": 800})

    page.goto(f"{live_server.url}/admin/registry/annualfiling/")
    expect(page.locator("#content h1")).to_have_text("年度登记备案")
    results = page.locator("#changelist .results")
    overflow = results.evaluate("r => r.scrollWidth - r.clientWidth")
    widths = page.locator("#result_list thead th").evaluate_all(
        "ths => ths.map(t => t.className + ':' + t.clientWidth + ':' + t.innerText)"
    )
    assert overflow <= 0, f"the list is cut off by {overflow} px: {widths}"
    status = page.locator("#result_list td.field-status").first
    expect(status).to_have_text("待主管部门复核")
    # One line box for the text: it was 待主/管部/门复/核, four.
    lines = status.evaluate(
        "td => { const r = document.createRange(); r.selectNodeContents(td);"
        " return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }"
    )
    assert lines == 1, f"the status wraps onto {lines} lines"
    assert status.evaluate("td => td.scrollWidth <= td.clientWidth")

    page.goto(f"{live_server.url}/admin/registry/annualfiling/{journey.filing.pk}/change/")
    expect(page.locator("#content h1")).to_have_text("审核年度登记备案")
    overlaps = page.locator("[data-testid=snapshot]").evaluate(
        """dl => [...dl.querySelectorAll("dt")].filter(dt => {
             const dd = dt.nextElementSibling;
             return dt.getBoundingClientRect().right > dd.getBoundingClientRect().left;
           }).map(dt => dt.innerText)"""
    )
    assert overlaps == [], f"labels run into their values: {overlaps}"
