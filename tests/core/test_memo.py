"""{% memo %}: a fragment made once per key and process, and never shared between keys."""

import pytest
from django.template import Context, Template

from core.templatetags import memo

TEMPLATE = Template("{% load memo %}{% memo who %}{{ who }} {{ detail }}{% endmemo %}")


@pytest.fixture(autouse=True)
def _empty(settings):
    settings.DEBUG = False
    memo._FRAGMENTS.clear()
    yield
    memo._FRAGMENTS.clear()


def test_made_once_per_key():
    assert TEMPLATE.render(Context({"who": "a", "detail": 1})) == "a 1"
    # the same key: the fragment as first made (its other values are not part of it)
    assert TEMPLATE.render(Context({"who": "a", "detail": 2})) == "a 1"
    assert TEMPLATE.render(Context({"who": "b", "detail": 3})) == "b 3"


def test_the_oldest_entries_leave_first(monkeypatch):
    monkeypatch.setattr(memo, "LIMIT", 2)
    for who in "abc":
        TEMPLATE.render(Context({"who": who, "detail": who}))
    assert len(memo._FRAGMENTS) == 2
    assert TEMPLATE.render(Context({"who": "a", "detail": "new"})) == "a new"


def test_debug_renders_every_time(settings):
    settings.DEBUG = True
    TEMPLATE.render(Context({"who": "a", "detail": 1}))
    assert TEMPLATE.render(Context({"who": "a", "detail": 2})) == "a 2"


def test_the_navigation_follows_the_role_and_the_page(world, as_user):
    manager = as_user(world.manager.user).get("/me/").content.decode()
    firm = as_user(world.reviewer).get("/firm/").content.decode()
    assert 'href="/me/hours/"' in manager and 'href="/me/hours/"' not in firm
    assert 'aria-current="page">' in manager
    hours = as_user(world.manager.user).get("/me/hours/").content.decode()
    assert hours.count('aria-current="page"') == 1
    assert '<a class="nav-link active" href="/me/hours/"' in hours
