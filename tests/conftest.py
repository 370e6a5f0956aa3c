"""Role fixtures shared by every test: a manager, a reviewer of the same firm and of another firm,
bureau staff of the county, of another county and of the prefecture, and an anonymous visitor.

The world: 湖南省 → 湘西州 → 吉首市 (firm A, the manager's) and 凤凰县 (firm B)."""

from dataclasses import dataclass

import pytest

from tests import factories as f
from tests.auth import client_for, totp_activate


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _celery_eager(settings):
    # Unit tests run tasks in-process; tests marked `worker` use a real worker and broker.
    from portal.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def english():
    """Read messages in English (the source language); the default language is Chinese."""
    from django.utils import translation

    with translation.override("en"):
        yield


@dataclass
class World:
    province: object
    prefecture: object
    county: object
    other_county: object
    firm: object
    other_firm: object
    manager: object  # ManagerProfile employed by `firm`
    other_manager: object  # ManagerProfile employed by `other_firm`
    reviewer: object  # User, admin of `firm`
    other_reviewer: object  # User, admin of `other_firm`
    bureau: object  # User, staff of `county`
    other_bureau: object  # User, staff of `other_county`
    prefecture_bureau: object  # User, staff of `prefecture`
    provider_user: object


@pytest.fixture
def world(db) -> World:
    province = f.JurisdictionFactory(code="430000", name="湖南省", level="province")
    prefecture = f.JurisdictionFactory(
        code="433100", name="湘西土家族苗族自治州", level="prefecture", parent=province
    )
    county = f.JurisdictionFactory(code="433101", name="吉首市", parent=prefecture)
    other_county = f.JurisdictionFactory(code="433123", name="凤凰县", parent=prefecture)
    firm = f.FirmFactory(name="吉首市甲物业", jurisdiction=county)
    other_firm = f.FirmFactory(name="凤凰县乙物业", jurisdiction=other_county)
    manager = f.ManagerProfileFactory(real_name="彭建国")
    other_manager = f.ManagerProfileFactory(real_name="向丽华")
    f.employ(manager, firm)
    f.employ(other_manager, other_firm)
    return World(
        province=province,
        prefecture=prefecture,
        county=county,
        other_county=other_county,
        firm=firm,
        other_firm=other_firm,
        manager=manager,
        other_manager=other_manager,
        reviewer=f.FirmMembershipFactory(firm=firm).user,
        other_reviewer=f.FirmMembershipFactory(firm=other_firm).user,
        bureau=f.BureauMembershipFactory(jurisdiction=county).user,
        other_bureau=f.BureauMembershipFactory(jurisdiction=other_county).user,
        prefecture_bureau=f.BureauMembershipFactory(jurisdiction=prefecture).user,
        provider_user=f.ProviderStaffFactory(provider__jurisdiction=prefecture).user,
    )


@pytest.fixture
def as_user():
    """`as_user(user)` returns a test client logged in as that user (None: anonymous). Staff
    sessions have passed the second factor (see tests/auth.py)."""
    return client_for


@pytest.fixture
def mfa(db):
    """`mfa(user)` gives the user a TOTP authenticator (`as_user` gives staff one anyway)."""
    return totp_activate


@pytest.fixture(autouse=True)
def _no_rate_limit_hits_counted():
    """Each test starts with no hits counted by our rate limits (core/ratelimit.py): the counts
    live in the test Redis, which outlives a test and a run."""
    from django.core.cache import cache

    try:
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=cache.make_key("rl:*"), count=1000))
        if keys:
            client.delete(*keys)
    except Exception:  # noqa: BLE001 - a test without Redis has no counts either
        pass
    yield


@pytest.fixture(autouse=True, scope="session")
def _no_kept_pages_of_another_run():
    """No page kept rendered (core.pagecache) by an earlier run: its test database started the
    data versions from the same numbers with other data."""
    from core.pagecache import forget_all

    try:
        forget_all()
    except Exception:  # noqa: BLE001 - a test without Redis kept nothing either
        pass
