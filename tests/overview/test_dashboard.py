"""The bureau's dashboard (/bureau/statistics/): its figures against counts made directly in
the database, for several jurisdictions (another one's data never counted), who may open it,
and a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.db.models import Count, Q
from django.urls import reverse

from accounts.models import ManagerProfile
from overview import dashboard
from overview.models import AreaFigures, FilingDay
from registry.models import AnnualFiling, RegistryStatus, ReviewEvent
from tests import factories as f
from training.models import HoursRule, StudyRecord
from training.selectors import compliance_for

YEAR = 2025
URL = reverse("overview:bureau_statistics")
S = AnnualFiling.Status


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime.combine(day, dt.time(hour), tzinfo=ZoneInfo("Asia/Shanghai"))


def _filing(manager, firm, status, steps):
    """A filing of YEAR in `status`, with review events (action, from, to, day) as the workflow
    would have written them."""
    filing = AnnualFiling.objects.create(
        manager=manager,
        year=YEAR,
        status=status,
        firm=firm,
        jurisdiction=firm.jurisdiction,
        certificate_code=f"C{manager.pk:07d}" if status == S.APPROVED else None,
        approved_at=_at(steps[-1][3]) if status == S.APPROVED else None,
    )
    for action, old, new, day in steps:
        event = ReviewEvent.objects.create(
            filing=filing, actor=manager.user, action=action, from_status=old, to_status=new
        )
        ReviewEvent.objects.filter(pk=event.pk).update(created_at=_at(day))
    return filing


D1, D2, D3, D4 = (dt.date(YEAR + 1, 1, d) for d in (5, 8, 12, 20))
START = ("start", "", S.DRAFT, dt.date(YEAR, 12, 20))
SUBMIT = ("submit", S.DRAFT, S.AWAITING_FIRM, D1)
FORWARD = ("firm_approve", S.AWAITING_FIRM, S.AWAITING_BUREAU, D2)
APPROVE = ("bureau_approve", S.AWAITING_BUREAU, S.APPROVED, D3)
RETURN = ("firm_return", S.AWAITING_FIRM, S.RETURNED, D2)


@pytest.fixture
def province_data(world):
    """Two prefectures: 湘西州 (the world's two counties and their firms) and 长沙市 with one
    county, each with managers, filings in several stages, study records, statuses."""
    w = world
    HoursRule.objects.create(jurisdiction=w.province, year=YEAR, annual_minimum=Decimal("24"))
    changsha = f.JurisdictionFactory(
        code="430100", name="长沙市", level="prefecture", parent=w.province
    )
    furong = f.JurisdictionFactory(code="430102", name="芙蓉区", parent=changsha)
    firm_c = f.FirmFactory(name="芙蓉物业", jurisdiction=furong)
    extra = f.bulk_managers(3, "jishou", firm=w.firm)
    other = f.bulk_managers(1, "fenghuang", firm=w.other_firm)
    far = f.bulk_managers(4, "furong", firm=firm_c)
    ManagerProfile.objects.filter(pk__in=[m.pk for m in extra[:2]]).update(skill_level="none")
    ManagerProfile.objects.filter(pk__in=[m.pk for m in far]).update(skill_level="none")
    # Filings: 吉首 approved, awaiting bureau, draft; 凤凰 returned; 芙蓉 all approved.
    _filing(w.manager, w.firm, S.APPROVED, [START, SUBMIT, FORWARD, APPROVE])
    _filing(extra[0], w.firm, S.AWAITING_BUREAU, [START, SUBMIT, FORWARD])
    _filing(extra[1], w.firm, S.DRAFT, [START])
    _filing(w.other_manager, w.other_firm, S.RETURNED, [START, SUBMIT, RETURN])
    for m in far:
        _filing(m, firm_c, S.APPROVED, [START, SUBMIT, FORWARD, APPROVE])
    # Hours: compliant (24 h), short (10 h), a rejected and a failed record that count nothing.
    f.study_hours(w.manager, YEAR, 24)
    f.study_hours(extra[0], YEAR, 10)
    f.study_hours(other[0], YEAR, 30)
    rejected = f.study_hours(extra[2], YEAR, 30)
    StudyRecord.objects.filter(pk=rejected.pk).update(status=StudyRecord.Status.REJECTED)
    failed = f.study_hours(w.other_manager, YEAR, 30)
    StudyRecord.objects.filter(pk=failed.pk).update(assessment=StudyRecord.Assessment.FAILED)
    f.study_hours(w.other_manager, YEAR - 1, 30)  # another year
    for m in far:
        f.study_hours(m, YEAR, 40)
    # Registry statuses of YEAR (as the close of the window would decide them).
    now = _at(dt.date(YEAR + 1, 4, 1))
    for m, status in [
        (w.manager, "normal"),
        (extra[0], "abnormal"),
        (extra[1], "abnormal"),
        (w.other_manager, "abnormal"),
        (far[0], "normal"),
    ]:
        RegistryStatus.objects.create(
            manager=m,
            year=YEAR,
            status=status,
            reasons=["not_approved"] if status == "abnormal" else [],
            jurisdiction=m.jurisdiction,
            closed_on=dt.date(YEAR + 1, 3, 31),
            decided_at=now,
            updated_at=now,
        )
    dashboard.dashboard_refresh(year=YEAR, today=dt.date(YEAR + 1, 2, 10))
    w.changsha, w.furong, w.firm_c = changsha, furong, firm_c
    return w


def counted_in_db(path: str) -> dict:
    """The figures of the area under `path`, counted straight from the tables."""
    managers = ManagerProfile.objects.filter(jurisdiction__path__startswith=path)
    filings = AnnualFiling.objects.filter(year=YEAR, jurisdiction__path__startswith=path)
    by_status = dict(filings.values_list("status").annotate(n=Count("pk")))
    records = StudyRecord.objects.filter(
        manager__in=managers,
        completed_on__year=YEAR,
        status=StudyRecord.Status.VERIFIED,
        assessment=StudyRecord.Assessment.PASSED,
    )
    statuses = RegistryStatus.objects.filter(year=YEAR, jurisdiction__path__startswith=path)
    return {
        "managers": managers.count(),
        "certified": managers.exclude(skill_level="none").count(),
        "compliant": sum(compliance_for(manager=m, year=YEAR).compliant for m in managers),
        "participations": records.count(),
        "trained": records.values("manager").distinct().count(),
        **{s: by_status.get(s, 0) for s in dashboard.STAGES},
        "decided": statuses.count(),
        "abnormal": statuses.filter(status="abnormal").count(),
    }


@pytest.mark.parametrize(
    "who", ["bureau", "other_bureau", "prefecture_bureau", "province_bureau", "changsha_bureau"]
)
def test_figures_equal_counts_made_in_the_database(province_data, who):
    w = province_data
    user = {
        "province_bureau": lambda: f.BureauMembershipFactory(jurisdiction=w.province).user,
        "changsha_bureau": lambda: f.BureauMembershipFactory(jurisdiction=w.changsha).user,
    }.get(who, lambda: getattr(w, who))()
    board = dashboard.dashboard_for(user=user, year=YEAR)
    path = board.jurisdiction.path
    expected = counted_in_db(path)
    assert board.total.figures == expected
    assert expected["managers"] > 0
    # Each area's row is the area's own count.
    for row in board.areas:
        assert row.figures == counted_in_db(row.key.path if row.key else path)


def test_prefecture_sees_its_counties_and_nothing_of_another_prefecture(province_data):
    w = province_data
    board = dashboard.dashboard_for(user=w.prefecture_bureau, year=YEAR)
    assert [a.name for a in board.areas] == ["吉首市", "凤凰县"]
    assert {r.name for r in board.firms} == {w.firm.name, w.other_firm.name}
    assert board.total.managers == 6  # 1 + 3 in 吉首, 1 + 1 in 凤凰; 芙蓉's 4 are not counted
    assert board.total.approved == 1
    assert board.total.compliance_rate == round(100 * 2 / 6, 1)
    assert board.total.abnormal_rate == round(100 * 3 / 4, 1)
    assert board.total.certified_rate == round(100 * 2 / 6, 1)
    assert (board.total.participations, board.total.trained) == (3, 3)
    # Firms whose current managers all trained: neither (吉首 2 of 4, 凤凰 1 of 2).
    assert (board.firms_trained, board.firm_count) == (0, 2)
    county = dashboard.dashboard_for(user=w.bureau, year=YEAR)
    assert county.total.managers == 4 and [a.name for a in county.areas] == ["吉首市"]
    changsha = dashboard.dashboard_for(
        user=f.BureauMembershipFactory(jurisdiction=w.changsha).user, year=YEAR
    )
    assert (changsha.firms_trained, changsha.firm_count) == (1, 1)
    assert changsha.total.approved == 4


def test_daily_series_follows_the_review_history(province_data):
    w = province_data
    board = dashboard.dashboard_for(user=w.prefecture_bureau, year=YEAR)
    days = {d["day"]: d for d in board.days}

    def at(day):
        d = days[day]
        return {s: d[s] for s in (*dashboard.STAGES, "submitted")}

    before = days[D1 - dt.timedelta(days=1)]
    assert (before["awaiting_firm"], before["submitted"], before["draft"]) == (0, 0, 4)
    assert at(D1) == {**at(D1), "draft": 1, "awaiting_firm": 3, "submitted": 3}
    assert at(D2) == {**at(D2), "awaiting_firm": 0, "awaiting_bureau": 2, "returned": 1}
    assert at(D3) == {**at(D3), "awaiting_bureau": 1, "approved": 1, "returned": 1}
    # The last day equals the filings' statuses now.
    last = board.days[-1]
    now = counted_in_db(w.prefecture.path)
    assert all(last[s] == now[s] for s in dashboard.STAGES)
    # Stored per day and jurisdiction: nothing of 长沙 in 湘西's series.
    assert FilingDay.objects.filter(jurisdiction=w.furong, day=D3).get().approved == 4


def test_refresh_twice_gives_the_same_rows(province_data):
    before = sorted(AreaFigures.objects.values_list("jurisdiction", "firm", "managers", "approved"))
    dashboard.dashboard_refresh(year=YEAR, today=dt.date(YEAR + 1, 2, 10))
    after = sorted(AreaFigures.objects.values_list("jurisdiction", "firm", "managers", "approved"))
    assert before == after


def test_the_management_command_and_the_task_refresh(province_data):
    from django.core.management import call_command

    from overview.tasks import dashboard_refresh

    AreaFigures.objects.all().delete()
    call_command("dashboard_refresh", "--year", str(YEAR))
    assert AreaFigures.objects.filter(year=YEAR).exists()
    AreaFigures.objects.all().delete()
    assert str(YEAR) in dashboard_refresh.delay(year=YEAR).get()
    assert AreaFigures.objects.filter(year=YEAR).exists()


# --- the page ------------------------------------------------------------------------------------


def _page(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200
    return response


def test_page_shows_the_figures_tables_links_and_chart_data(province_data, as_user):
    w = province_data
    response = _page(as_user(w.prefecture_bureau), year=YEAR)
    html = response.content.decode()
    assert 'id="dashboard-data"' in html and "echarts.min.js" in html and "js/dashboard.js" in html
    # No inline script: the charts read the figures from a JSON block (a CSP can forbid inline).
    assert re.findall(r"<script(?![^>]*(?:src=|application/json))", html) == []
    block = re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', html)
    data = json.loads(block.group(1))
    assert data["areas"]["x"] == ["吉首市", "凤凰县"]
    assert data["areas"]["approved"] == [1, 0]
    assert data["areas"]["returned"] == [0, 1]
    assert data["areas"]["not_submitted"] == [2, 1]
    # Links to the filtered lists: filings of the county in a stage, the abnormal statuses.
    assert (
        f"/admin/registry/annualfiling/?year__exact={YEAR}&amp;status__exact=approved"
        f"&amp;county={w.county.pk}" in html
    )
    assert (
        f"/admin/registry/registrystatus/?year__exact={YEAR}&amp;status__exact=abnormal"
        f"&amp;county={w.other_county.pk}" in html
    )
    # The definition of the certificate-holding rate is on the page, in Chinese.
    assert "持证率" in html and "职业技能等级" in html
    assert "长沙" not in html and "芙蓉" not in html


def test_province_official_opens_an_area_under_him_but_a_county_not_another(province_data, as_user):
    w = province_data
    province = f.BureauMembershipFactory(jurisdiction=w.province).user
    html = _page(as_user(province), year=YEAR, area=w.changsha.pk).content.decode()
    assert "芙蓉区" in html and "吉首市" not in html
    assert as_user(w.bureau).get(URL, {"area": w.other_county.pk}).status_code == 404
    assert as_user(w.bureau).get(URL, {"area": w.prefecture.pk}).status_code == 404
    own = _page(as_user(w.other_bureau), year=YEAR).content.decode()
    assert "凤凰县" in own and "吉首市" not in own


@pytest.mark.parametrize("who", ["manager", "reviewer", "provider_user"])
def test_firms_managers_and_providers_cannot_open_it(province_data, as_user, who):
    user = getattr(province_data, who)
    user = user.user if isinstance(user, ManagerProfile) else user
    assert as_user(user).get(URL).status_code == 403


def test_anonymous_is_sent_to_log_in(db, as_user):
    response = as_user(None).get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_page_without_figures_says_so(world, as_user):
    html = _page(as_user(world.bureau), year=YEAR).content.decode()
    assert 'data-testid="no-figures"' in html


def test_query_count_does_not_grow_with_areas_and_firms(
    province_data, as_user, django_assert_max_num_queries
):
    w = province_data
    province = f.BureauMembershipFactory(jurisdiction=w.province).user
    client = as_user(province)
    for n in range(12):
        county = f.JurisdictionFactory(code=f"4301{n + 10:02d}", name=f"区{n}", parent=w.changsha)
        firm = f.FirmFactory(name=f"物业{n}", jurisdiction=county)
        f.bulk_managers(2, f"more{n}", firm=firm)
    dashboard.dashboard_refresh(year=YEAR, today=dt.date(YEAR + 1, 2, 10))
    with django_assert_max_num_queries(14):
        _page(client, year=YEAR)
    with django_assert_max_num_queries(14):
        _page(client, year=YEAR, area=w.changsha.pk)


def test_statuses_of_another_year_do_not_count(province_data):
    w = province_data
    RegistryStatus.objects.filter(manager=w.manager).update(year=YEAR - 1)
    dashboard.dashboard_refresh(year=YEAR, today=dt.date(YEAR + 1, 2, 10))
    board = dashboard.dashboard_for(user=w.bureau, year=YEAR)
    assert (
        board.total.decided
        == RegistryStatus.objects.filter(Q(year=YEAR), jurisdiction=w.county).count()
    )


def test_every_link_opens_its_admin_list_with_the_figure_shown(province_data, as_user):
    """The figures of the tables link to admin lists filtered to the same rows: each link is a
    valid filter (no "?e=1" redirect), and a stage's link lists as many filings as it says."""
    import html as html_lib

    w = province_data
    client = as_user(w.prefecture_bureau)
    page = _page(client, year=YEAR).content.decode()
    links = {html_lib.unescape(h) for h in re.findall(r'href="(/admin/[^"]+)"', page)}
    assert len(links) > 10
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
    # 吉首市's approved filings, 凤凰县's abnormal statuses, the area's counted study records.
    board = dashboard.dashboard_for(user=w.prefecture_bureau, year=YEAR)
    for row in board.areas:
        place = row.key.pk
        for link, expected in [
            (
                f"/admin/registry/annualfiling/?year__exact={YEAR}&status__exact=approved"
                f"&county={place}",
                row.approved,
            ),
            (
                f"/admin/registry/registrystatus/?year__exact={YEAR}&status__exact=abnormal"
                f"&county={place}",
                row.abnormal,
            ),
            (
                f"/admin/training/studyrecord/?completed_on__year={YEAR}"
                f"&status__exact=verified&assessment__exact=passed&jurisdiction={place}",
                row.participations,
            ),
            (f"/admin/accounts/managerprofile/?jurisdiction={place}", row.managers),
        ]:
            assert link in links
            assert client.get(link).context["cl"].result_count == expected, link
