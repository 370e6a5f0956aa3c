"""Crawl every page each demo role can reach: no full ID number outside the bureau, and nothing
of another firm or jurisdiction."""

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import pytest
from django.core.management import call_command

from accounts.models import Employment, Firm, ManagerProfile, User
from tests.auth import client_for

ID_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dX](?![0-9A-Za-z])")
SKIP = (
    "/static/",
    "/i18n/",
    "/accounts/logout/",
    "/delete/",
    "/admin/logout/",
    "/accounts/2fa/",
    "/admin/jsi18n/",
    "/admin/r/",
    "/accounts/password/",
    "/accounts/email/",
)


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


def crawl(client, start="/", limit=250):
    seen, queue, pages = set(), [start], {}
    while queue and len(pages) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code in (301, 302):
            target = response["Location"]
            if urlparse(target).netloc in ("", "testserver"):
                queue.append(
                    urlparse(target).path
                    + ("?" + urlparse(target).query if urlparse(target).query else "")
                )
            continue
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        pages[url] = html
        parser = Links()
        parser.feed(html)
        for href in parser.links:
            absolute = urljoin(url, href)
            parsed = urlparse(absolute)
            if parsed.netloc not in ("", "testserver") or parsed.scheme not in ("", "http"):
                continue
            path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
            if any(s in path for s in SKIP) or path in seen:
                continue
            # Admin change lists have endless filter/sort combinations: follow plain pages only.
            if path.startswith("/admin/") and parsed.query and "q=" not in parsed.query:
                continue
            queue.append(path)
    return pages


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0, stdout=open("/dev/null", "w"))
    settings.DEBUG = False


def login(email):
    return client_for(User.objects.get(email=email))


@pytest.mark.parametrize(
    "email",
    [
        "manager1@demo.example.cn",
        "manager2@demo.example.cn",
        "firm1@demo.example.cn",
        "firm2@demo.example.cn",
        "provider1@demo.example.cn",
    ],
)
def test_no_full_id_number_on_any_page_outside_the_bureau(demo, email):
    pages = crawl(login(email))
    assert pages  # at least the landing page of the role
    for url, html in pages.items():
        assert not ID_RE.search(html), f"full ID number on {url}"


@pytest.mark.parametrize("email", ["firm1@demo.example.cn", "firm2@demo.example.cn"])
def test_firm_sees_nothing_of_other_firms(demo, email):
    user = User.objects.get(email=email)
    firm = user.firm_membership.firm
    pages = crawl(login(email))
    html = "\n".join(pages.values())
    for other in Firm.objects.exclude(pk=firm.pk):
        assert other.name not in html, other.name
    # Managers still waiting for a firm have no number yet: their names are checked instead.
    strangers = ManagerProfile.objects.exclude(employments__firm=firm).filter(
        registration_number__isnull=False
    )
    for manager in strangers:
        assert manager.registration_number not in html, manager.real_name


@pytest.mark.parametrize("email", ["manager1@demo.example.cn", "manager2@demo.example.cn"])
def test_manager_sees_only_himself(demo, email):
    me = ManagerProfile.objects.get(user__email=email)
    html = "\n".join(crawl(login(email)).values())
    for other in ManagerProfile.objects.exclude(pk=me.pk):
        if other.registration_number:
            assert other.registration_number not in html


@pytest.mark.parametrize(
    ("email", "county"),
    [("bureau1@demo.example.cn", "吉首市"), ("bureau2@demo.example.cn", "凤凰县")],
)
def test_county_bureau_sees_nothing_of_other_counties(demo, email, county):
    pages = crawl(login(email), start="/admin/", limit=300)
    assert any(u.startswith("/admin/accounts/managerprofile/") for u in pages)
    html = "\n".join(pages.values())
    for firm in Firm.objects.exclude(jurisdiction__name=county):
        assert firm.name not in html, firm.name
    outsiders = ManagerProfile.objects.exclude(jurisdiction__name=county).exclude(
        employments__firm__jurisdiction__name=county
    )
    for manager in outsiders:
        if manager.registration_number:  # those waiting for a firm have none yet
            assert manager.registration_number not in html, manager.real_name
        assert manager.id_number not in html
    # The bureau does see full ID numbers of its own managers.
    assert ID_RE.search(html)
    assert Employment.objects.exists()
