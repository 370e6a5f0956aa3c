"""Two officials deciding the same audited record at once, on real PostgreSQL connections: the
first decides, the second waits for the lock and is told who decided; nothing changes twice."""

import pytest
from django.urls import reverse

from notifications.models import Notice
from tests import factories as f
from tests.training.test_study_record_race import (
    english_client,
    warnings_of,
    while_first_decides,
)
from training import audits

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def officials(world, mfa):
    second = f.BureauMembershipFactory(jurisdiction=world.county).user
    return mfa(world.bureau), mfa(second)


def test_a_rejection_racing_an_uphold_is_told_and_changes_nothing(world, officials, as_user):
    first, second = officials
    item = f.audit_answered(world)
    client = english_client(as_user, second)
    outcome = while_first_decides(
        lambda: audits.audit_decide(actor=first, item=item, upheld=True),
        lambda: client.post(
            reverse("training:audit_item_decide", args=[item.pk]),
            {"decision": "rejected", "note": "证书模糊"},
        ),
    )
    assert "error" not in outcome, outcome.get("error")
    response = outcome["response"]
    assert response.status_code == 302
    (warning,) = warnings_of(response)
    assert "already “Upheld”" in warning and first.email in warning
    item.refresh_from_db()
    assert (item.status, item.decided_by, item.note) == ("upheld", first, "")
    assert item.record.status == "verified" and item.record.verified_by == first
    assert (
        Notice.objects.filter(kind__startswith="audit_", recipient=world.manager.user).count() == 2
    )


def test_two_rejections_at_once_keep_the_first(world, officials, as_user):
    first, second = officials
    item = f.audit_answered(world)
    client = english_client(as_user, second)
    outcome = while_first_decides(
        lambda: audits.audit_decide(actor=first, item=item, upheld=False, note="学时不符"),
        lambda: client.post(
            reverse("training:audit_item_decide", args=[item.pk]),
            {"decision": "rejected", "note": "证书模糊"},
        ),
    )
    assert "error" not in outcome, outcome.get("error")
    (warning,) = warnings_of(outcome["response"])
    assert first.email in warning
    item.refresh_from_db()
    assert (item.status, item.note, item.decided_by) == ("rejected", "学时不符", first)
    assert item.record.rejection_reason == "学时不符"
    assert Notice.objects.filter(kind="audit_rejected").count() == 1
