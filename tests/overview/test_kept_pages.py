"""Pages kept rendered until their data changes (core/pagecache.py, accounts/pagechanges.py):
the manager's overview and the firm's queue are served from the cache while nothing they show
has changed, and never after a change of anything they show, however it was written (the ORM,
a bulk update, raw SQL); the CSRF token, the messages and the user's own parts of the page stay
his; and every table such a page reads is watched by the triggers."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.messages import SUCCESS
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connection
from django.http import HttpRequest
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import pagechanges
from accounts.models import Employment, Firm, ManagerProfile, PageChange
from accounts.roles import users_with_roles
from accounts.tasks import compact_page_changes
from core import pagecache
from core.prepared import original_sql
from registry import services
from registry.models import AnnualFiling
from tests import factories as f
from tests.auth import client_for as logged_in
from training.models import HoursRule, StudyRecord

YEAR = timezone.localdate().year
OVERVIEW = reverse("overview:manager_dashboard")
QUEUE = reverse("registry:firm_queue")
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def client_for(user, **kwargs) -> Client:
    """Logged in, reading English."""
    client = logged_in(user, **kwargs)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _page(client, url=OVERVIEW) -> str:
    answer = client.get(url)
    assert answer.status_code == 200
    return answer.content.decode()


def _without_tokens(html: str) -> str:
    return TOKEN.sub("", html)


def _kept(client, url) -> str:
    """The page after it has been kept: asked twice, the second answer from the cache."""
    first = _page(client, url)
    with CaptureQueriesContext(connection) as queries:
        second = _page(client, url)
    assert len(queries) == 2, [q["sql"][:80] for q in queries]  # the session and the user
    assert _without_tokens(second) == _without_tokens(first)
    return second


def test_the_overview_is_kept_and_served_with_the_session_and_the_user_alone(world):
    client = client_for(world.manager.user)
    page = _kept(client, OVERVIEW)
    assert world.manager.real_name in page
    assert pagecache._placeholder() not in page


def test_the_firm_queue_is_kept_too(world):
    _kept(client_for(world.reviewer), QUEUE)


def _record(manager, hours="8.0"):
    f.study_hours(manager, YEAR, Decimal(hours))


def _rename_by_sql(manager, name):
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_managerprofile SET real_name = %s WHERE id = %s", [name, manager.pk]
        )


CHANGES = {
    # What changes, and how the overview shows it afterwards.
    "study hours recorded (ORM)": (lambda w: _record(w.manager, "7.5"), "15.5 hours still"),
    "study hours changed by a bulk update": (
        lambda w: (
            _record(w.manager, "3.0"),
            StudyRecord.objects.filter(manager=w.manager).update(hours=Decimal("11.5")),
        ),
        "1.0 hours still",
    ),
    "his name changed in raw SQL": (lambda w: _rename_by_sql(w.manager, "彭建华"), "彭建华"),
    "his firm renamed (everyone's pages)": (
        lambda w: Firm.objects.filter(pk=w.firm.pk).update(name="吉首市丙物业"),
        "吉首市丙物业",
    ),
    "the hours rule changed (everyone's pages)": (
        lambda w: HoursRule.objects.update(annual_minimum=Decimal("37.5")),
        "36.5 hours still",
    ),
    "his employment ended": (
        lambda w: Employment.objects.filter(manager=w.manager).update(
            status=Employment.Status.ENDED
        ),
        "You are not recorded as employed by any firm",
    ),
}


@pytest.mark.parametrize("change", CHANGES, ids=list(CHANGES))
def test_the_overview_shows_every_change_of_its_data(world, change):
    f.open_window(world.province, YEAR)
    HoursRule.objects.create(jurisdiction=world.province, year=YEAR, annual_minimum=24)
    client = client_for(world.manager.user)
    _record(world.manager, "1.0")
    before = _kept(client, OVERVIEW)
    apply, shown = CHANGES[change]
    assert shown not in before
    apply(world)
    after = _page(client, OVERVIEW)
    assert shown in after


def test_another_managers_change_keeps_the_page(world):
    client = client_for(world.manager.user)
    _kept(client, OVERVIEW)
    _record(world.other_manager, "5.0")
    with CaptureQueriesContext(connection) as queries:
        _page(client, OVERVIEW)
    assert len(queries) == 2


def test_the_queue_follows_the_firms_filings_and_names(world, django_capture_on_commit_callbacks):
    f.open_window(world.province, YEAR)
    reviewer = client_for(world.reviewer)
    assert world.manager.real_name not in _kept(reviewer, QUEUE)

    filing = services.filing_start(actor=world.manager.user, year=YEAR)
    f.add_proofs(filing)
    with django_capture_on_commit_callbacks(execute=True):
        services.filing_submit(actor=world.manager.user, filing=filing)
    assert world.manager.real_name in _kept(reviewer, QUEUE)

    ManagerProfile.objects.filter(pk=world.manager.pk).update(real_name="彭建华")
    assert "彭建华" in _kept(reviewer, QUEUE)

    AnnualFiling.objects.filter(pk=filing.pk).update(status=AnnualFiling.Status.AWAITING_BUREAU)
    assert "彭建华" not in _page(reviewer, QUEUE)


def test_each_reviewer_of_a_firm_sees_his_own_account_on_it(world):
    second = f.FirmMembershipFactory(firm=world.firm).user
    first_page = _kept(client_for(world.reviewer), QUEUE)
    second_page = _page(client_for(second), QUEUE)
    assert world.reviewer.email in first_page and second.email not in first_page
    assert second.email in second_page and world.reviewer.email not in second_page


def test_a_kept_page_carries_the_requests_own_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.manager.user)
    _page(client, OVERVIEW)
    kept = _page(client, OVERVIEW)
    token = TOKEN.search(kept).group(1)
    answer = client.post(
        reverse("set_language"), {"language": "en", "next": OVERVIEW, "csrfmiddlewaretoken": token}
    )
    assert answer.status_code == 302  # a refused token answers 403


def test_messages_are_shown_once_and_never_kept(world):
    client = client_for(world.manager.user)
    _kept(client, OVERVIEW)
    storage = CookieStorage(HttpRequest())
    client.cookies[storage.cookie_name] = storage._encode([Message(SUCCESS, "Saved, thank you.")])
    assert "Saved, thank you." in _page(client, OVERVIEW)
    assert "Saved, thank you." not in _page(client, OVERVIEW)


def test_a_kept_page_depends_only_on_watched_tables(world, django_capture_on_commit_callbacks):
    """Every table the pages read, beyond what any page of the same user reads (his session,
    his roles), has the triggers that log its changes: a new table on a kept page without them
    would be served stale."""
    f.open_window(world.province, YEAR)
    _record(world.manager, "2.0")
    filing = services.filing_start(actor=world.manager.user, year=YEAR)
    f.add_proofs(filing)
    with django_capture_on_commit_callbacks(execute=True):
        services.filing_submit(actor=world.manager.user, filing=filing)
    watched = pagechanges.tables_with_triggers()
    for user, url in ((world.manager.user, OVERVIEW), (world.reviewer, QUEUE)):
        client = client_for(user)
        client.get(reverse("account_email"))  # any page: the session and the user read once
        with CaptureQueriesContext(connection) as every_page:
            client.get(reverse("notifications:notice_list"))
        with CaptureQueriesContext(connection) as kept_page:
            pagecache.forget_all()
            _page(client, url)
        common = {original_sql(q["sql"]) for q in every_page.captured_queries}
        read = set()
        for query in kept_page.captured_queries:
            sql = original_sql(query["sql"])
            if sql not in common:
                read |= set(re.findall(r'(?:FROM|JOIN) "([a-z_]+)"', sql))
        assert read, url
        assert read <= watched, (url, read - watched)


def test_a_write_logs_one_row_per_user_however_many_rows(world):
    for n in range(3):
        _record(world.manager, str(n + 1))
    before = PageChange.objects.order_by("-pk").values_list("pk", flat=True).first()
    assert StudyRecord.objects.filter(manager=world.manager).update(hours=Decimal("2.0")) == 3
    # One statement, one user whose pages show the rows: one row, whatever the row count.
    assert list(PageChange.objects.filter(pk__gt=before).values_list("user_id", "weight")) == [
        (world.manager.user_id, 1)
    ]


def _version(user) -> int:
    return users_with_roles().get(pk=user.pk).page_version


def test_folding_the_log_keeps_every_version(world):
    for n in range(4):
        _record(world.manager, str(n + 1))
    HoursRule.objects.create(jurisdiction=world.province, year=YEAR, annual_minimum=30)
    versions = {u: _version(u) for u in (world.manager.user, world.reviewer)}
    rows = PageChange.objects.count()
    assert pagechanges.compact() > 0
    assert PageChange.objects.count() < rows
    assert {u: _version(u) for u in versions} == versions
    _record(world.manager, "9")
    assert _version(world.manager.user) == versions[world.manager.user] + 1


def test_the_beat_folds_the_log(world, settings):
    assert settings.CELERY_BEAT_SCHEDULE["accounts-compact-page-changes"]["task"] == (
        compact_page_changes.name
    )
    for n in range(3):
        _record(world.manager, str(n + 1))
    version = _version(world.manager.user)
    assert compact_page_changes.delay().get() >= 2
    assert PageChange.objects.filter(user_id=world.manager.user_id).count() == 1
    assert _version(world.manager.user) == version


def test_only_the_canonical_addresses_are_kept(world):
    """A page is kept under its few canonical query strings only; any other address (another
    spelling of a year, an unknown parameter, a search) is rendered every time, so no one
    can fill Redis with copies of a page."""
    manager, reviewer = client_for(world.manager.user), client_for(world.reviewer)
    _kept(manager, f"{OVERVIEW}?year={YEAR}")
    _kept(reviewer, f"{QUEUE}?status=awaiting_bureau")
    for client, url in (
        (manager, f"{OVERVIEW}?year=0{YEAR}"),
        (manager, f"{OVERVIEW}?year={YEAR}&x=1"),
        (reviewer, f"{QUEUE}?status=awaiting_firm&q=彭"),
        (reviewer, f"{QUEUE}?status=awaiting_firm&page=2"),
    ):
        _page(client, url)
        with CaptureQueriesContext(connection) as queries:
            _page(client, url)
        assert len(queries) > 2, url
