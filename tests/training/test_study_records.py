import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from tests import factories as f
from training.models import Course, StudyRecord


def png_bytes():
    out = io.BytesIO()
    Image.new("RGB", (60, 40), "white").save(out, "PNG")
    return out.getvalue()


def cert(name="证书.png", content=None):
    return SimpleUploadedFile(name, content if content is not None else png_bytes(), "image/png")


@pytest.fixture
def course(world):
    provider = f.ProviderFactory(jurisdiction=world.prefecture)
    return Course.objects.create(
        provider=provider,
        code="XX-001",
        title="物业管理条例",
        hours=8,
        mode="online",
        category="law",
        start_date=dt.date(2026, 3, 1),
        end_date=dt.date(2026, 12, 31),
    )


@pytest.fixture
def manager_client(world, as_user):
    client = as_user(world.manager.user)
    client.post(reverse("set_language"), {"language": "en"})
    return client


def post_record(client, **data):
    payload = {
        "course": "",
        "external_title": "",
        "external_provider": "",
        "completed_on": "2026-04-01",
        "hours": "8",
        "assessment": "passed",
        "score": "90",
    }
    payload.update(data)
    return client.post(reverse("training:study_record_add"), payload)


def test_manager_records_a_catalogue_course_with_certificate(world, manager_client, course):
    response = post_record(manager_client, course=course.pk, certificate=cert())
    assert response.status_code == 302
    record = StudyRecord.objects.get(manager=world.manager)
    assert record.status == "pending" and record.source == "self"
    assert record.certificate_name == "证书.png"
    # Stored under a random name, not the user's.
    assert "证书" not in record.certificate.name


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"hours": "9"}, "at most 8"),
        ({"hours": "0"}, "more than zero"),
        ({"completed_on": "2026-02-28"}, "cannot be earlier"),
        ({"completed_on": "2099-01-01"}, "future"),
    ],
)
def test_record_rules_give_clear_messages(world, manager_client, course, data, message):
    response = post_record(manager_client, course=course.pk, certificate=cert(), **data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not StudyRecord.objects.exists()


def test_same_course_counts_once(world, manager_client, course):
    post_record(manager_client, course=course.pk, certificate=cert())
    response = post_record(manager_client, course=course.pk, certificate=cert())
    assert "counts once" in response.content.decode()
    assert StudyRecord.objects.count() == 1


def test_self_reported_record_needs_a_certificate(world, manager_client):
    response = post_record(manager_client, external_title="外部课程")
    assert response.status_code == 200
    assert not StudyRecord.objects.exists()


def test_external_course_needs_a_title(world, manager_client):
    response = post_record(manager_client, certificate=cert())
    assert "enter the course title" in response.content.decode()
    assert not StudyRecord.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("certificate.pdf", b"MZ" + b"\x90" * 4000, "Only PDF, JPEG or PNG"),
        ("photo.jpg", b"\x89PNG\r\n\x1a\n" + b"garbage" * 100, ""),
    ],
)
def test_bad_certificate_files_are_refused(world, manager_client, name, content, message):
    response = post_record(
        manager_client, external_title="外部课程", certificate=cert(name, content)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not StudyRecord.objects.exists()


def test_a_50_mb_certificate_is_refused_and_nothing_is_saved(world, manager_client, settings):
    big = SimpleUploadedFile(
        "big.pdf", b"%PDF-1.4\n" + b"0" * (50 * 1024 * 1024), "application/pdf"
    )
    response = post_record(manager_client, external_title="外部课程", certificate=big)
    assert response.status_code == 200
    assert "10 MB" in response.content.decode()
    assert not StudyRecord.objects.exists()


def _pending(world):
    return StudyRecord.objects.create(
        manager=world.manager,
        external_title="外部",
        completed_on=dt.date(2026, 3, 1),
        hours=4,
        assessment="passed",
        source="self",
        status="pending",
    )


def test_pending_record_can_be_deleted(world, manager_client):
    record = _pending(world)
    manager_client.post(reverse("training:study_record_delete", args=[record.pk]))
    assert not StudyRecord.objects.filter(pk=record.pk).exists()


def test_verified_record_cannot_be_edited_or_deleted(world, manager_client):
    record = _pending(world)
    StudyRecord.objects.filter(pk=record.pk).update(status="verified")
    manager_client.post(reverse("training:study_record_delete", args=[record.pk]))
    assert StudyRecord.objects.filter(pk=record.pk).exists()
    response = manager_client.get(reverse("training:study_record_edit", args=[record.pk]))
    assert response.status_code == 302


def test_bureau_rejects_with_reason_and_manager_sees_it(world, as_user, mfa):
    record = _pending(world)
    client = as_user(mfa(world.bureau))
    url = reverse("admin:training_studyrecord_changelist")
    # The action first asks for the reason on an intermediate page.
    page = client.post(url, {"action": "reject", "_selected_action": [record.pk]})
    assert page.status_code == 200
    assert "reason" in page.content.decode().lower() or "原因" in page.content.decode()
    record.refresh_from_db()
    assert record.status == "pending"
    client.post(
        url,
        {"action": "reject", "_selected_action": [record.pk], "apply": "1", "reason": "证书模糊"},
    )
    record.refresh_from_db()
    assert record.status == "rejected"
    assert record.rejection_reason == "证书模糊"
    html = as_user(world.manager.user).get(reverse("training:study_hours") + "?year=2026")
    assert "证书模糊" in html.content.decode()


def test_bureau_verifies_only_its_jurisdiction(world, as_user, mfa):
    mine = _pending(world)
    theirs = StudyRecord.objects.create(
        manager=world.other_manager,
        external_title="外部",
        completed_on=dt.date(2026, 3, 1),
        hours=4,
        assessment="passed",
        source="self",
        status="pending",
    )
    client = as_user(mfa(world.bureau))
    client.post(
        reverse("admin:training_studyrecord_changelist"),
        {"action": "verify", "_selected_action": [mine.pk, theirs.pk]},
    )
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == "verified" and mine.verified_by == world.bureau
    assert theirs.status == "pending"


def test_verify_service_refuses_another_county(world):
    from django.core.exceptions import PermissionDenied

    from training.services import study_record_verify

    record = _pending(world)
    with pytest.raises(PermissionDenied):
        study_record_verify(actor=world.other_bureau, record=record)
    record.refresh_from_db()
    assert record.status == "pending"


def test_transcript_is_a_chinese_pdf_with_the_registration_number(world, as_user):
    response = as_user(world.manager.user).get(reverse("training:transcript", args=[2026]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_the_same_course_in_another_year_counts_again(world, manager_client, course):
    post_record(manager_client, course=course.pk, certificate=cert())
    first = StudyRecord.objects.get()
    StudyRecord.objects.filter(pk=first.pk).update(
        completed_on=first.completed_on.replace(year=first.completed_on.year - 1)
    )

    response = post_record(manager_client, course=course.pk, certificate=cert())

    assert "counts once" not in response.content.decode()
    assert StudyRecord.objects.count() == 2
