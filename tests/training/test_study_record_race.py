"""Two officials deciding the same study record at once, on real PostgreSQL connections (one per
thread): the first decides, the second waits for its lock, then is told who decided; nothing
changes twice and nobody gets a server error."""

import datetime as dt
import threading
import time

import pytest
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.urls import reverse

from tests import factories as f
from training import services
from training.models import StudyRecord

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def record(world):
    return StudyRecord.objects.create(
        manager=world.manager,
        external_title="外部课程",
        completed_on=dt.date(2026, 3, 1),
        hours=4,
        assessment="passed",
        source="self",
        status="pending",
    )


@pytest.fixture
def officials(world, mfa):
    """Two officials of the manager's county, both able to use the admin."""
    second = f.BureauMembershipFactory(jurisdiction=world.county).user
    second.first_name = "Second"
    second.save(update_fields=["first_name"])
    return mfa(world.bureau), mfa(second)


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


def while_first_decides(first_decision, second_request):
    """Run `first_decision` in a transaction held open until `second_request` (in its own
    thread) is blocked on the record's lock, then commit it; return what the second got."""
    decided, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def first():
        try:
            with transaction.atomic():
                first_decision()
                decided.set()
                release.wait(20)
        finally:
            connection.close()

    def second():
        try:
            outcome["response"] = second_request()
        except Exception as exc:  # noqa: BLE001 (a 500: the test client re-raises it)
            outcome["error"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert decided.wait(20)
    threads[1].start()
    deadline = time.monotonic() + 20
    while not _waiting_on_a_lock() and time.monotonic() < deadline:
        time.sleep(0.02)
    release.set()
    for thread in threads:
        thread.join(30)
    return outcome


def reject_through_the_admin(client, record, reason):
    return lambda: client.post(
        reverse("admin:training_studyrecord_changelist"),
        {"action": "reject", "_selected_action": [record.pk], "apply": "1", "reason": reason},
    )


def english_client(as_user, user):
    client = as_user(user)
    client.cookies["django_language"] = "en"
    return client


def warnings_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]


def test_a_reject_racing_a_verification_is_told_and_changes_nothing(record, officials, as_user):
    first, second = officials
    outcome = while_first_decides(
        lambda: services.study_record_verify(actor=first, record=record),
        reject_through_the_admin(english_client(as_user, second), record, "证书模糊"),
    )
    assert "error" not in outcome, outcome.get("error")
    response = outcome["response"]
    assert response.status_code == 302
    (warning,) = warnings_of(response)
    assert "already “Verified”" in warning and first.email in warning
    assert "Nothing was changed" in warning
    record.refresh_from_db()
    assert (record.status, record.verified_by, record.rejection_reason) == ("verified", first, "")


def test_two_rejections_at_once_keep_the_first_reason_and_tell_the_second(
    record, officials, as_user
):
    first, second = officials
    outcome = while_first_decides(
        lambda: services.study_record_reject(actor=first, record=record, reason="学时不符"),
        reject_through_the_admin(english_client(as_user, second), record, "证书模糊"),
    )
    assert "error" not in outcome, outcome.get("error")
    (warning,) = warnings_of(outcome["response"])
    assert "already “Rejected”" in warning
    record.refresh_from_db()
    assert (record.status, record.verified_by, record.rejection_reason) == (
        "rejected",
        first,
        "学时不符",
    )


def test_the_same_official_rejecting_twice_is_harmless(record, officials):
    first, _second = officials
    services.study_record_reject(actor=first, record=record, reason="学时不符")
    again = services.study_record_reject(actor=first, record=record, reason="学时不符")
    assert again.status == "rejected"
