"""The navigation bar (issue 14, point 5): on one line from 1024 px up for every role, in
Chinese and in English, nothing wrapping inside a label; below 992 px it collapses behind the
menu button and opens as a clean column. The language menu names each language in itself."""

import pytest
from playwright.sync_api import expect

ROLES = ["anonymous", "manager", "firm", "bureau", "provider"]
START = {
    "anonymous": "/",
    "manager": "/me/",
    "firm": "/firm/",
    "bureau": "/bureau/",
    "provider": "/provider/",
}

_MEASURE = """() => {
  const nav = document.querySelector("nav.navbar");
  const items = [...nav.querySelectorAll(".navbar-brand, .nav-link, #language-select")]
    .filter(e => e.offsetParent !== null)
    .map(e => {
      const r = e.getBoundingClientRect();
      const line = parseFloat(getComputedStyle(e).lineHeight) || 24;
      return {text: e.innerText.trim(), top: r.top, height: r.height, right: r.right, line};
    });
  return {height: nav.getBoundingClientRect().height, items,
          scroll: document.documentElement.scrollWidth};
}"""


def _user(world, role):
    return {
        "anonymous": None,
        "manager": world.manager.user,
        "firm": world.reviewer,
        "bureau": world.bureau,
        "provider": world.provider_user,
    }[role]


def _visit_as(page, live_server, world, role, language, login_as):
    page.context.clear_cookies()
    user = _user(world, role)
    if user is not None:
        login_as(user)
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    page.goto(live_server.url + START[role])


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_navigation_is_one_line_from_1024_px(
    transactional_db, world, language, live_server, page, login_as
):
    problems = []
    for role in ROLES:
        _visit_as(page, live_server, world, role, language, login_as)
        for width in (1024, 1280):
            page.set_viewport_size({"width": width, "height": 800})
            expect(page.locator(".navbar-toggler")).to_be_hidden()
            m = page.evaluate(_MEASURE)
            tops = {round(item["top"] + item["height"] / 2) for item in m["items"]}
            wrapped = [i["text"] for i in m["items"] if i["height"] > 2 * i["line"]]
            where = f"{role}, {language}, {width} px"
            if m["height"] > 64:
                problems.append(f"{where}: the bar is {m['height']} px high")
            if max(tops) - min(tops) > 8:
                problems.append(f"{where}: items on more than one line: {m['items']}")
            if wrapped:
                problems.append(f"{where}: labels wrap: {wrapped}")
            if m["scroll"] > width:
                problems.append(f"{where}: the page is {m['scroll']} px wide")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", ["manager", "firm"])
def test_navigation_collapses_cleanly_at_phone_width(
    transactional_db, world, role, live_server, page, login_as
):
    _visit_as(page, live_server, world, role, "zh-hans", login_as)
    page.set_viewport_size({"width": 390, "height": 844})
    links = page.locator("#nav .navbar-nav .nav-link")
    expect(links.first).to_be_hidden()
    toggler = page.locator(".navbar-toggler")
    expect(toggler).to_be_visible()
    expect(toggler).to_have_accessible_name("菜单")

    toggler.click()
    expect(links.first).to_be_visible()
    boxes = [links.nth(i).bounding_box() for i in range(links.count())]
    for box in boxes:
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert box["height"] < 48  # one line each
    tops = [box["y"] for box in boxes]
    assert tops == sorted(tops) and len(set(tops)) == len(tops)  # a column
    # The bell and the account keep their words when the menu is open.
    expect(page.locator("[data-testid=notices-link]")).to_contain_text("消息通知")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_language_menu_names_each_language_in_itself(
    transactional_db, world, live_server, page, login_as
):
    for language in ("zh-hans", "en"):
        _visit_as(page, live_server, world, "manager", language, login_as)
        options = page.locator("#language-select option")
        expect(options).to_have_text(["简体中文", "English"])
        expect(page.locator("#language-select option[value=en]")).to_have_attribute("lang", "en")
        # The whole name shows at desk width (it was cut to 简体中).
        page.set_viewport_size({"width": 1280, "height": 800})
        select = page.locator("#language-select")
        fits = select.evaluate("s => s.scrollWidth <= s.clientWidth + 1")
        assert fits, f"{language}: the language menu cuts its label"
