"""The credit file's notices read naturally in Chinese, with their parameters filled in."""

import pytest
from django.utils import translation

from notifications.models import Notice
from notifications.wording import notice_body, notice_title

K = Notice.Kind

CASES = [
    (K.ASSESSMENT_FAILED, {"course": "物业法规考核", "date": "2027-05-20"}),
    (K.SUPERVISION_LISTED, {"cause": "abnormal_twice", "until": "2028-05-31", "public_reason": ""}),
    (K.SUPERVISION_ENDED, {"cause": "manual", "end_cause": "delisted"}),
    (K.FIRM_SUPERVISION, {"count": 3}),
    (K.FIRM_SUPERVISION_ENDED, {"count": 2}),
    (K.BUREAU_SUPERVISION, {"count": 1}),
    (K.OBJECTION_SUBMITTED, {"name": "彭建国", "due_on": "2027-06-25"}),
    (K.OBJECTION_DECIDED, {"status": "upheld", "reason": "核实无误"}),
    (K.REPAIR_SUBMITTED, {"name": "彭建国", "due_on": "2027-06-25"}),
    (K.REPAIR_DECIDED, {"status": "approved", "reason": "整改到位"}),
    (K.REPAIR_DECIDED, {"status": "rejected", "reason": "材料不全"}),
]


@pytest.mark.parametrize(("kind", "params"), CASES)
def test_credit_notices_in_chinese(db, kind, params):
    notice = Notice(kind=kind, params=params)
    with translation.override("zh-hans"):
        title, body = notice_title(notice), notice_body(notice)
    assert title and body
    assert not any(c.isascii() and c.isalpha() for c in title + body)


def test_listing_notice_names_the_cause_and_the_day():
    notice = Notice(
        kind=K.SUPERVISION_LISTED,
        params={"cause": "abnormal_twice", "until": "2028-05-31", "public_reason": ""},
    )
    with translation.override("zh-hans"):
        body = notice_body(notice)
    assert "连续两年执业状态异常" in body and "2028年5月31日" in body
