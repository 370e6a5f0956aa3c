"""One year in view: in the first quarter, while last year's window is open for the manager,
the overview, the study-hours page and the filing page all open on the year being filed, with
the days left and a "file now" button; after the deadline all three open on this year."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from registry import services
from registry.models import FilingExtension, FilingWindow
from tests import factories as f
from training.models import StudyRecord
from training.selectors import study_year_in_view

SHANGHAI = ZoneInfo("Asia/Shanghai")
PAGES = [
    ("overview:manager_dashboard", "Study hours {year}"),
    ("training:study_hours", "Study hours {year}"),
    ("registry:my_filing", "Annual filing {year}"),
]


def noon(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=SHANGHAI)


@pytest.fixture
def visit(world, as_user):
    def visit(url_name, query=""):
        client = as_user(world.manager.user)  # logged in on the day (sessions do not last years)
        client.post(reverse("set_language"), {"language": "en"})
        response = client.get(reverse(url_name) + query)
        assert response.status_code == 200
        return response.content.decode()

    return visit


@pytest.mark.parametrize(("url_name", "heading"), PAGES)
def test_in_the_first_quarter_every_manager_page_shows_the_year_being_filed(
    world, visit, url_name, heading
):
    with time_machine.travel(noon(dt.date(2027, 2, 10)), tick=False):
        html = visit(url_name)
    assert heading.format(year=2026) in html
    assert "filing-banner" in html
    assert "The 2026 annual filing is open." in html
    assert "49 days left" in html  # to 31 March
    assert f'{reverse("registry:my_filing")}?year=2026" data-testid="file-now"' in html


@pytest.mark.parametrize(("url_name", "heading"), PAGES)
def test_after_the_deadline_every_manager_page_shows_this_year_without_the_banner(
    world, visit, url_name, heading
):
    with time_machine.travel(noon(dt.date(2027, 4, 1)), tick=False):
        html = visit(url_name)
    assert heading.format(year=2027) in html
    assert "filing-banner" not in html


@pytest.mark.parametrize(("url_name", "heading"), PAGES)
def test_a_manager_switches_years(world, visit, url_name, heading):
    with time_machine.travel(noon(dt.date(2027, 2, 10)), tick=False):
        html = visit(url_name, "?year=2025")
    assert heading.format(year=2025) in html
    assert '<option value="2025" selected>' in html
    assert '<option value="2026"' in html


def test_the_year_picker_lists_the_years_with_records_or_filings(world, visit):
    StudyRecord.objects.create(
        manager=world.manager,
        external_title="外部课程",
        completed_on=dt.date(2023, 5, 1),
        hours=4,
        assessment="passed",
        source="self",
    )
    f.open_window(world.province, 2021, today=dt.date(2022, 2, 1))
    with time_machine.travel(noon(dt.date(2022, 2, 1)), tick=False):
        services.filing_start(actor=world.manager.user, year=2021)
    with time_machine.travel(noon(dt.date(2027, 2, 10)), tick=False):
        html = visit("overview:manager_dashboard")
        filing_html = visit("registry:my_filing")
    for page in (html, filing_html):
        assert '<option value="2023"' in page and '<option value="2021"' in page


def test_the_banner_goes_once_the_filing_is_submitted(world, visit):
    with time_machine.travel(noon(dt.date(2027, 2, 10)), tick=False):
        filing = services.filing_start(actor=world.manager.user, year=2026)
        assert "filing-banner" in visit("overview:manager_dashboard")  # a draft: still to file
        f.add_proofs(filing)
        services.filing_submit(actor=world.manager.user, filing=filing)
        html = visit("overview:manager_dashboard")
    assert "filing-banner" not in html
    assert "Study hours 2026" in html


def test_the_year_in_view_follows_the_managers_own_window_and_extension(world):
    FilingWindow.objects.create(
        jurisdiction=world.county, year=2026, opens_on="2027-01-01", closes_on="2027-02-28"
    )
    march = dt.date(2027, 3, 1)
    assert study_year_in_view(manager=world.manager, today=dt.date(2027, 2, 28)) == 2026
    assert study_year_in_view(manager=world.manager, today=march) == 2027
    # Another county keeps the default first quarter.
    assert study_year_in_view(manager=world.other_manager, today=march) == 2026
    FilingExtension.objects.create(
        manager=world.manager,
        year=2026,
        until=dt.date(2027, 3, 20),
        reason="住院",
        granted_by=world.bureau,
    )
    assert study_year_in_view(manager=world.manager, today=march) == 2026
