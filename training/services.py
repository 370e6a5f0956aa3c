"""Writes of the training app: study records, their verification, and hours rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ManagerProfile, User
from accounts.roles import Role, roles_of
from core.errors import DomainError
from core.uploads import content_sha256

from . import audits, selectors
from .models import AuditItem, Course, LockedStudyYear, Provider, StudyRecord

ONE_DECIMAL = Decimal("0.1")


def study_record_rule_errors(
    *, course: Course | None, completed_on: dt.date | None, hours: Decimal | None
) -> list[tuple[str, str]]:
    """The rules on a record's hours and date, as (field, message) pairs; empty when all hold.

    Needs no database: the manager's form and the provider's bulk import both use it, so both
    say the same thing. A value that is None was not readable; the caller says so itself."""
    errors: list[tuple[str, str]] = []
    if hours is None:
        pass
    elif hours <= 0:
        errors.append(("hours", _("Study hours must be more than zero.")))
    elif hours != hours.quantize(ONE_DECIMAL):
        errors.append(("hours", _("Hours can have at most one decimal place.")))
    elif course is not None and hours > course.hours:
        errors.append(
            ("hours", _("The course gives at most %(max)s hours.") % {"max": course.hours})
        )
    if completed_on is not None:
        if completed_on > timezone.localdate():
            errors.append(("completed_on", _("The completion date cannot be in the future.")))
        elif course is not None and completed_on < course.start_date:
            errors.append(
                (
                    "completed_on",
                    _(
                        "The completion date is before the course starts (%(date)s); it cannot be earlier."
                    )
                    % {"date": course.start_date.isoformat()},
                )
            )
    return errors


def _own_record_errors(
    *, manager: ManagerProfile, data: dict, has_certificate: bool, exclude_pk: int | None = None
) -> list[tuple[str, str]]:
    """Every rule of a manager's own record: the shared ones, once per course, a certificate."""
    course = data.get("course")
    errors = study_record_rule_errors(
        course=course, completed_on=data.get("completed_on"), hours=data.get("hours")
    )
    completed_on = data.get("completed_on")
    if course is not None and completed_on is not None:
        # Once per course and year: a yearly course taken again next year counts again.
        duplicate = StudyRecord.objects.filter(
            manager=manager, course=course, completed_on__year=completed_on.year
        )
        if exclude_pk:
            duplicate = duplicate.exclude(pk=exclude_pk)
        if duplicate.exists():
            errors.append(
                (
                    "course",
                    _("This course is already in your records for that year; it counts once."),
                )
            )
    if not has_certificate:
        errors.append(("certificate", _("Attach the certificate (PDF, JPEG or PNG).")))
    return errors


def _own_manager(actor: User) -> ManagerProfile:
    roles = roles_of(actor)
    if roles.role != Role.MANAGER or roles.manager_profile is None:
        raise PermissionDenied
    return roles.manager_profile


def _raise(errors: list[tuple[str, str]]) -> None:
    if errors:
        by_field: dict[str, list[str]] = {}
        for field, message in errors:
            by_field.setdefault(field, []).append(message)
        raise DomainError(by_field)


def _editable(record: StudyRecord) -> None:
    if not record.own_and_undecided:
        raise DomainError(
            _("Only your own records awaiting verification can be changed."), code="locked"
        )
    if AuditItem.objects.filter(record_id=record.pk).exists():
        raise DomainError(
            _("This record was selected for audit; it can no longer be changed."), code="audited"
        )
    _not_in_submitted_filing(record.manager_id, record.completed_on.year)


def study_year_lock(*, manager_id: int, year: int) -> None:
    """Freeze a manager's records of `year` (his filing of that year was submitted). Repeating
    it is harmless."""
    LockedStudyYear.objects.get_or_create(manager_id=manager_id, year=year)


def study_year_unlock(*, manager_id: int, year: int) -> None:
    """Let the manager change his records of `year` again (the filing came back to him)."""
    LockedStudyYear.objects.filter(manager_id=manager_id, year=year).delete()


def _not_in_submitted_filing(manager_id: int, year: int) -> None:
    """A year's records are what its filing reported: once submitted, they stay as they are."""
    if selectors.is_study_year_locked(manager_id=manager_id, year=year):
        raise DomainError(
            _(
                "Your %(year)s filing has been submitted; the records of that year can no longer "
                "change. Withdraw the filing first if it still awaits your firm."
            )
            % {"year": year},
            code="filed",
        )


def study_record_save(
    *, actor: User, data: dict, certificate=None, record: StudyRecord | None = None
) -> StudyRecord:
    """Create the actor's own study record, or change one no official has decided on (awaiting
    verification, or accepted subject to audit and not sampled). Its status follows the audit
    policy of the manager's jurisdiction: accepted at once, or awaiting verification."""
    manager = _own_manager(actor)
    with transaction.atomic():
        # One writer per manager at a time: the once-per-course check cannot race.
        ManagerProfile.objects.select_for_update().get(pk=manager.pk)
        if record is None:
            record = StudyRecord(
                manager=manager, source=StudyRecord.Source.SELF, status=StudyRecord.Status.PENDING
            )
        else:
            record = StudyRecord.objects.get(pk=record.pk, manager=manager)
            _editable(record)
        if data.get("completed_on") is not None:
            _not_in_submitted_filing(manager.pk, data["completed_on"].year)
        _raise(
            _own_record_errors(
                manager=manager,
                data=data,
                has_certificate=certificate is not None or bool(record.certificate),
                exclude_pk=record.pk,
            )
        )
        course = data.get("course")
        record.course = course
        record.external_title = "" if course else data.get("external_title", "").strip()
        record.external_provider = "" if course else data.get("external_provider", "").strip()
        for field in ("completed_on", "hours", "assessment", "score"):
            setattr(record, field, data.get(field))
        if certificate is not None:
            record.certificate_name = certificate.name[:255]
            record.certificate_sha256 = content_sha256(certificate)
            record.certificate = certificate
        # Under an audit policy the record counts at once, subject to audit; else it waits.
        record.status = audits.status_for_new_self_record(
            manager=manager, has_certificate=bool(record.certificate)
        )
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError as exc:
            raise DomainError(
                _("This course is already in your records for that year; it counts once."),
                code="duplicate",
            ) from exc
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


def _study_record_decide(
    *, actor: User, record: StudyRecord, status: str, reason: str = ""
) -> StudyRecord:
    """Verify or reject a pending record: lock it, check the official's reach and the state.

    Repeating the same decision is harmless (a double click); a decision someone else already
    made, or the other decision, is refused with who made it and when (two officials at once:
    the second waits for the first's lock, then is told)."""
    with transaction.atomic():
        if not (actor.is_superuser or roles_of(actor).role == Role.BUREAU):
            raise PermissionDenied
        # The same scoped read as every page: outside the official's jurisdiction, no record.
        record = (
            selectors.study_record_list_for(user=actor)
            .select_for_update(of=("self",))
            .filter(pk=record.pk)
            .first()
        )
        if record is None:
            raise PermissionDenied
        if record.status == status and record.verified_by_id == actor.pk:
            return record
        if record.status != StudyRecord.Status.PENDING:
            raise _decided_error(record)
        record.status = status
        record.verified_by = actor
        record.verified_at = timezone.now()
        record.rejection_reason = reason
        record.save(update_fields=["status", "verified_by", "verified_at", "rejection_reason"])
    return record


def _decided_error(record: StudyRecord) -> DomainError:
    """Why a record can no longer be decided, naming who decided it and when."""
    if record.verified_by_id is None or record.verified_at is None:
        return DomainError(
            _("Only records awaiting verification can be verified or rejected."), code="state"
        )
    official = record.verified_by
    return DomainError(
        _("This record is already “%(status)s”: by %(official)s at %(time)s. Nothing was changed.")
        % {
            "status": record.get_status_display(),
            "official": official.get_full_name() or official.email,
            "time": formats.date_format(timezone.localtime(record.verified_at), "DATETIME_FORMAT"),
        },
        code="state",
    )


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


# --- providers -------------------------------------------------------------------------------


def _bureau_scoped_provider(actor: User, provider: Provider) -> Provider:
    """The provider, locked, if `actor` is bureau staff whose jurisdiction covers it (or an
    administrator); otherwise PermissionDenied."""
    if roles_of(actor).role not in (Role.BUREAU, Role.ADMIN):
        raise PermissionDenied
    locked = (
        selectors.provider_list_for(user=actor).select_for_update().filter(pk=provider.pk).first()
    )
    if locked is None:
        raise PermissionDenied
    return locked


def provider_status_set(*, actor: User, provider: Provider, status: str) -> bool:
    """Approve or suspend a training provider, recording who did it and when. An approval
    without a start date starts today. Returns whether anything changed (repeating it is
    harmless)."""
    if status not in (Provider.Status.APPROVED, Provider.Status.SUSPENDED):
        raise DomainError(_("Unknown provider status."), code="status")
    with transaction.atomic():
        provider = _bureau_scoped_provider(actor, provider)
        if provider.status == status:
            return False
        provider.status = status
        if status == Provider.Status.APPROVED and provider.approved_from is None:
            provider.approved_from = timezone.localdate()
        provider.status_changed_by = actor
        provider.status_changed_at = timezone.now()
        provider.save(
            update_fields=["status", "approved_from", "status_changed_by", "status_changed_at"]
        )
    return True
