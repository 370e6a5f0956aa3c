"""Writes of the training app: study records, their verification, and hours rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ManagerProfile, User
from accounts.roles import Role, roles_of
from portal.exceptions import DomainError

from .models import Course, StudyRecord


def study_record_check(
    *,
    manager: ManagerProfile,
    course: Course | None,
    completed_on: dt.date,
    hours: Decimal,
    certificate_given: bool,
    source: str,
    exclude_pk: int | None = None,
) -> list[tuple[str, str]]:
    """The rules every study record obeys, as (field, message) pairs; empty when all hold.

    Shared by the manager's form and the provider's bulk import so both say the same."""
    errors: list[tuple[str, str]] = []
    if hours is None or hours <= 0:
        errors.append(("hours", _("Study hours must be more than zero.")))
    elif course is not None and hours > course.hours:
        errors.append(
            ("hours", _("The course gives at most %(max)s hours.") % {"max": course.hours})
        )
    today = timezone.localdate()
    if completed_on and completed_on > today:
        errors.append(("completed_on", _("The completion date cannot be in the future.")))
    if course is not None and completed_on and completed_on < course.start_date:
        errors.append(
            (
                "completed_on",
                _("The course starts on %(date)s; the completion date cannot be earlier.")
                % {"date": course.start_date.isoformat()},
            )
        )
    if course is not None:
        duplicate = StudyRecord.objects.filter(manager=manager, course=course)
        if exclude_pk:
            duplicate = duplicate.exclude(pk=exclude_pk)
        if duplicate.exists():
            errors.append(("course", _("This course is already in your records; it counts once.")))
    if source == StudyRecord.Source.SELF and not certificate_given:
        errors.append(("certificate", _("Attach the certificate (PDF, JPEG or PNG).")))
    return errors


def _own_manager(actor: User) -> ManagerProfile:
    roles = roles_of(actor)
    if roles.role != Role.MANAGER or roles.manager_profile is None:
        raise PermissionDenied
    return roles.manager_profile


def _raise(errors: list[tuple[str, str]]) -> None:
    if errors:
        raise DomainError({field: [message] for field, message in errors})


def _editable(record: StudyRecord) -> None:
    if record.status != StudyRecord.Status.PENDING or record.source != StudyRecord.Source.SELF:
        raise DomainError(
            _("Only your own records awaiting verification can be changed."), code="locked"
        )
    if is_in_submitted_filing(record):
        raise DomainError(
            _("This record is part of a submitted annual filing and cannot be changed."),
            code="in_filing",
        )


def is_in_submitted_filing(record: StudyRecord) -> bool:
    """Whether the record's year is covered by a filing that left the draft state.

    The registry app answers this once it exists; until then nothing is locked."""
    try:
        from registry.selectors import year_is_filed
    except ImportError:
        return False
    return year_is_filed(manager_id=record.manager_id, year=record.completed_on.year)


def study_record_create(*, actor: User, data: dict, certificate=None) -> StudyRecord:
    manager = _own_manager(actor)
    course = data.get("course")
    with transaction.atomic():
        ManagerProfile.objects.select_for_update().get(pk=manager.pk)
        _raise(
            study_record_check(
                manager=manager,
                course=course,
                completed_on=data["completed_on"],
                hours=data["hours"],
                certificate_given=certificate is not None,
                source=StudyRecord.Source.SELF,
            )
        )
        record = StudyRecord(
            manager=manager,
            course=course,
            external_title="" if course else data.get("external_title", "").strip(),
            external_provider="" if course else data.get("external_provider", "").strip(),
            completed_on=data["completed_on"],
            hours=data["hours"],
            assessment=data["assessment"],
            score=data.get("score"),
            source=StudyRecord.Source.SELF,
            status=StudyRecord.Status.PENDING,
        )
        if certificate is not None:
            record.certificate_name = certificate.name[:255]
            record.certificate = certificate
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError as exc:
            raise DomainError(
                _("This course is already in your records; it counts once."), code="duplicate"
            ) from exc
    return record


def study_record_update(
    *, actor: User, record: StudyRecord, data: dict, certificate=None
) -> StudyRecord:
    manager = _own_manager(actor)
    with transaction.atomic():
        record = StudyRecord.objects.select_for_update().get(pk=record.pk, manager=manager)
        _editable(record)
        course = data.get("course")
        _raise(
            study_record_check(
                manager=manager,
                course=course,
                completed_on=data["completed_on"],
                hours=data["hours"],
                certificate_given=certificate is not None or bool(record.certificate),
                source=StudyRecord.Source.SELF,
                exclude_pk=record.pk,
            )
        )
        record.course = course
        record.external_title = "" if course else data.get("external_title", "").strip()
        record.external_provider = "" if course else data.get("external_provider", "").strip()
        for field in ("completed_on", "hours", "assessment", "score"):
            setattr(record, field, data.get(field))
        if certificate is not None:
            record.certificate_name = certificate.name[:255]
            record.certificate = certificate
        record.save()
    return record


def study_record_delete(*, actor: User, record: StudyRecord) -> None:
    manager = _own_manager(actor)
    with transaction.atomic():
        record = (
            StudyRecord.objects.select_for_update().filter(pk=record.pk, manager=manager).first()
        )
        if record is None:
            return  # already deleted: a double click
        _editable(record)
        record.delete()


def _require_bureau_over(actor: User, record: StudyRecord) -> None:
    roles = roles_of(actor)
    if actor.is_superuser:
        return
    if roles.role != Role.BUREAU:
        raise PermissionDenied
    jurisdiction = record.manager.jurisdiction
    if jurisdiction is None or not jurisdiction.path.startswith(roles.jurisdiction.path):
        raise PermissionDenied


def _study_record_decide(
    *, actor: User, record: StudyRecord, status: str, reason: str = ""
) -> StudyRecord:
    """Verify or reject a pending record: lock it, check the official's reach and the state.

    Repeating the same decision is harmless (a double click); the other one is refused."""
    with transaction.atomic():
        record = (
            StudyRecord.objects.select_for_update(of=("self",))
            .select_related("manager__jurisdiction")
            .get(pk=record.pk)
        )
        _require_bureau_over(actor, record)
        if record.status == status:
            return record
        if record.status != StudyRecord.Status.PENDING:
            raise DomainError(
                _("Only records awaiting verification can be verified or rejected."), code="state"
            )
        record.status = status
        record.verified_by = actor
        record.verified_at = timezone.now()
        record.rejection_reason = reason
        record.save(update_fields=["status", "verified_by", "verified_at", "rejection_reason"])
    return record


def study_record_verify(*, actor: User, record: StudyRecord) -> StudyRecord:
    return _study_record_decide(actor=actor, record=record, status=StudyRecord.Status.VERIFIED)


def study_record_reject(*, actor: User, record: StudyRecord, reason: str) -> StudyRecord:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            _("Give the reason for the rejection; the manager will see it."), code="reason"
        )
    return _study_record_decide(
        actor=actor, record=record, status=StudyRecord.Status.REJECTED, reason=reason
    )
