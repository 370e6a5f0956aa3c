"""The bureau's audit trail of a filing reads like the rest of the page (issue 14, point 4):
labels instead of stored values, local time without microseconds, nothing for a value that was
empty before; and the admin's filing pages are headed for review, not editing (point 9)."""

import re
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import translation

from registry import selectors
from tests.auth import client_for


def _lines(rows):
    return [
        f"{change.field}: {change.old} -> {change.new}" for row in rows for change in row.changes
    ]


def test_audit_trail_names_the_steps_and_shows_labels_not_stored_values(
    forwarded, filing_world, django_assert_max_num_queries
):
    with translation.override("zh-hans"):
        # One query per history table and one per kind of related row a change names.
        with django_assert_max_num_queries(6):
            rows = selectors.filing_audit_trail(forwarded)
        lines = _lines(rows)
        reasons = [row.reason for row in rows if row.reason]

    assert "企业初审通过并转报" in reasons  # not "firm_approve"
    assert "提交" in reasons
    assert "状态: 待企业初审 -> 待主管部门复核" in lines
    assert "状态: 草稿 -> 待企业初审" in lines
    assert f"物业服务企业:  -> {filing_world.firm.name}" in lines  # the firm's name, not its id
    text = " ".join(lines)
    for internal in ("awaiting_firm", "awaiting_bureau", "draft", "None", "firm_approve"):
        assert internal not in text, internal


def test_audit_trail_times_are_local_without_seconds(forwarded):
    with translation.override("zh-hans"):
        rows = selectors.filing_audit_trail(forwarded)
    submitted = [c.new for row in rows for c in row.changes if c.field == "提交时间"]
    assert submitted, _lines(rows)
    # Beijing time as the page shows it elsewhere: 2026年12月1日 05:04, not 21:04:17.893577+00:00.
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}", submitted[0]), submitted[0]
    local = forwarded.submitted_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert submitted[0].endswith(local.strftime("%H:%M"))


def test_audit_trail_skips_values_that_stay_empty(forwarded):
    rows = selectors.filing_audit_trail(forwarded)
    for row in rows:
        for change in row.changes:
            assert change.old or change.new, change
            assert change.old != change.new, change


def test_bureau_filing_page_shows_the_readable_trail(forwarded, filing_world):
    client = client_for(filing_world.bureau)
    with translation.override("zh-hans"):
        html = client.get(
            reverse("admin:registry_annualfiling_change", args=[forwarded.pk]),
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        ).content.decode()
    audit = html[html.index('data-testid="audit-trail"') :]
    assert "企业初审通过并转报" in audit
    assert "待企业初审 → 待主管部门复核" in audit
    assert "firm_approve" not in audit
    assert "None" not in audit
    assert "+00:00" not in audit


def test_bureau_filing_pages_are_headed_for_review(forwarded, filing_world):
    client = client_for(filing_world.bureau)
    detail = client.get(
        reverse("admin:registry_annualfiling_change", args=[forwarded.pk]),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    ).content.decode()
    listing = client.get(
        reverse("admin:registry_annualfiling_changelist"), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "<h1>审核年度登记备案</h1>" in detail
    assert "<h1>修改" not in detail
    assert "<h1>年度登记备案</h1>" in listing
    assert "来修改" not in listing
