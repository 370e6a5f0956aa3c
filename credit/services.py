"""Writes of the credit file: the recompute of one manager, listing and delisting on the
key-supervision list, objections (异议) and credit repair (信用修复).

Every transition takes the acting user, locks its row (`select_for_update`) through the same
scoped read as the pages, checks the state, records who did what and why, writes the notices in
the same transaction, and recomputes the manager's score before it commits. Two officials
deciding at once: the second waits for the first's lock, then finds the request decided and is
told so; nothing is written twice."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ManagerProfile, User
from accounts.roles import Role, roles_of
from accounts.selectors import manager_list_for
from core.errors import DomainError
from core.uploads import validate_upload
from notifications.models import Notice
from notifications.routing import bureau_reviewers
from notifications.services import NewNotice, emails_queue, notices_create
from registry import services as registry_services
from registry.models import ConductRecord, RegistryStatus
from registry.selectors import in_force_between

from . import selectors
from .listing import supervision_end_notify, supervision_notify
from .models import (
    DeductionWaiver,
    Objection,
    RepairRequest,
    ScoreLine,
    SupervisionEntry,
)
from .policy import lock, policy_for
from .scoring import RecomputeResult, scores_recompute
from .workdays import add_working_days

BUREAU = (Role.BUREAU, Role.ADMIN)
Target = Objection.Target
Decision = Objection.Status


def credit_refresh(*, manager: ManagerProfile | int) -> RecomputeResult:
    """Recompute one manager's scores and listing rules now (the same statements as the daily
    run, narrowed to him); while the daily run holds the lock, by the worker after the commit
    (a page never waits for the daily run)."""
    manager_id = manager if isinstance(manager, int) else manager.pk
    return scores_recompute(manager_ids=[manager_id], wait=False)


# --- helpers ---------------------------------------------------------------------------------


def _own_manager(actor: User) -> ManagerProfile:
    roles = roles_of(actor)
    if roles.role != Role.MANAGER or roles.manager_profile is None:
        raise PermissionDenied
    return roles.manager_profile


def _bureau_manager(actor: User, manager_id: int) -> ManagerProfile:
    if roles_of(actor).role not in BUREAU:
        raise PermissionDenied
    manager = (
        manager_list_for(user=actor).select_related("jurisdiction").filter(pk=manager_id).first()
    )
    if manager is None:
        raise PermissionDenied
    return manager


def _required(text: str, message) -> str:
    text = (text or "").strip()
    if not text:
        raise DomainError(message, code="reason")
    return text


def _date(value: dt.date) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def _decided_error(row, noun) -> DomainError:
    who = row.decided_by.get_full_name() or row.decided_by.email if row.decided_by else ""
    return DomainError(
        _("This %(what)s was already decided (%(status)s) by %(who)s.")
        % {"what": noun, "status": row.get_status_display(), "who": who},
        code="state",
    )


def _attach(row, field: str, name_field: str, upload) -> None:
    if not upload:
        return
    mime = getattr(upload, "detected_mime", None) or validate_upload(upload)
    name = (getattr(upload, "name", "") or "upload")[:255]
    setattr(row, name_field, name)
    row._detected_mime = mime  # noqa: SLF001 (PrivateUploadTo reads it)
    getattr(row, field).save(name, upload, save=False)


# --- the key-supervision list ----------------------------------------------------------------


def supervision_list(
    *,
    actor: User,
    manager: ManagerProfile,
    reason: str,
    public_reason: str = "",
    days: int | None = None,
    today: dt.date | None = None,
) -> SupervisionEntry:
    """Put a manager on the key-supervision list by hand (bureau staff of his jurisdiction),
    for `days` (default: the policy's period). He, his firm's reviewers and the bureau are
    told. Refused while he is on the list already."""
    manager = _bureau_manager(actor, manager.pk)
    reason = _required(reason, _("Give the reason for listing."))
    if manager.jurisdiction is None:
        raise DomainError(_("The manager has no jurisdiction yet."), code="jurisdiction")
    today = today or timezone.localdate()
    days = days or policy_for(jurisdiction=manager.jurisdiction).supervision_days
    if days < 1:
        raise DomainError(_("The period must be at least one day."), code="days")
    with transaction.atomic():
        lock()
        ManagerProfile.objects.select_for_update().filter(pk=manager.pk).first()
        if SupervisionEntry.objects.filter(
            selectors.supervision_active_q(today), manager=manager
        ).exists():
            raise DomainError(
                _("The manager is on the key-supervision list already."), code="state"
            )
        now = timezone.now()
        entry = SupervisionEntry.objects.create(
            manager=manager,
            cause=SupervisionEntry.Cause.MANUAL,
            reason=reason,
            public_reason=(public_reason or "").strip()[:200],
            starts_on=today,
            ends_on=today + dt.timedelta(days=days - 1),
            jurisdiction=manager.jurisdiction,
            listed_by=actor,
            listed_at=now,
        )
        emails_queue(supervision_notify(listed_at=now, actor_id=actor.pk))
    return entry


def _end_entry(
    entry: SupervisionEntry, *, actor: User, cause: str, reason: str, now: dt.datetime
) -> bool:
    """End a locked entry (False if it had ended already) and tell the manager and his firm's
    reviewers."""
    if entry.ended_at is not None:
        return False
    entry.ended_at = now
    entry.ended_by = actor
    entry.end_cause = cause
    entry.end_reason = reason
    entry.save(update_fields=["ended_at", "ended_by", "end_cause", "end_reason"])
    notices_create(
        [
            NewNotice(
                recipient_id=entry.manager.user_id,
                kind=Notice.Kind.SUPERVISION_ENDED,
                params={"cause": entry.cause, "end_cause": cause},
                link=reverse("credit:my_credit"),
                year=now.year,
                milestone=f"sv-end-{entry.pk}",
            )
        ]
    )
    emails_queue(supervision_end_notify(ended_at=now))
    return True


def supervision_delist(*, actor: User, entry: SupervisionEntry, reason: str) -> SupervisionEntry:
    """Take a manager off the list before the period ends (bureau staff of his jurisdiction),
    with a reason; the entry is kept. Taking off an entry that has ended changes nothing."""
    if roles_of(actor).role not in BUREAU:
        raise PermissionDenied
    reason = _required(reason, _("Give the reason for taking the manager off the list."))
    with transaction.atomic():
        locked = (
            selectors.supervision_list_for(user=actor)
            .select_for_update(of=("self",))
            .filter(pk=entry.pk)
            .first()
        )
        if locked is None:
            raise PermissionDenied
        _end_entry(
            locked,
            actor=actor,
            cause=SupervisionEntry.EndCause.DELISTED,
            reason=reason,
            now=timezone.now(),
        )
    return locked


# --- objections ------------------------------------------------------------------------------


def objection_options(*, manager: ManagerProfile, today: dt.date | None = None) -> dict:
    """What the manager may object to now: his abnormal statuses, his bad records not voided,
    the automatic deductions of his scores and his entries on the list (four queries)."""
    today = today or timezone.localdate()
    return {
        Target.STATUS: list(
            RegistryStatus.objects.filter(
                manager=manager, status=RegistryStatus.Status.ABNORMAL
            ).order_by("-year")
        ),
        Target.BAD_RECORD: list(
            ConductRecord.objects.filter(
                manager=manager, kind=ConductRecord.Kind.BAD, voided_at__isnull=True
            ).order_by("-occurred_on")
        ),
        Target.DEDUCTION: sorted(
            set(
                ScoreLine.objects.filter(
                    score__manager=manager,
                    rule__in=[ScoreLine.Rule.HOURS_SHORT, ScoreLine.Rule.FILING_LATE],
                ).values_list("score__year", "rule")
            ),
            reverse=True,
        ),
        Target.SUPERVISION: list(
            SupervisionEntry.objects.filter(selectors.supervision_active_q(today), manager=manager)
        ),
    }


def objection_submit(
    *,
    actor: User,
    target: str,
    reason: str,
    pk: int | None = None,
    year: int | None = None,
    deduction: str = "",
    evidence=None,
    today: dt.date | None = None,
) -> Objection:
    """A manager objects to one of his own statuses (`pk`), bad records (`pk`), deductions
    (`year`, `deduction`) or list entries (`pk`), with a reason and optional evidence. The
    bureau of his jurisdiction is told; the decision is due `decision_working_days` working
    days later. One objection per target waits at a time."""
    manager = _own_manager(actor)
    reason = _required(reason, _("Give the reason for your objection."))
    if manager.jurisdiction is None:
        raise DomainError(_("Your profile has no jurisdiction yet."), code="jurisdiction")
    today = today or timezone.localdate()
    options = objection_options(manager=manager, today=today)
    objection = Objection(manager=manager, target=target, reason=reason)
    if target == Target.DEDUCTION:
        if (year, deduction) not in options[Target.DEDUCTION]:
            raise PermissionDenied
        objection.year, objection.deduction = year, deduction
        objection.target_key = f"deduction-{year}-{deduction}"
    elif target in (Target.STATUS, Target.BAD_RECORD, Target.SUPERVISION):
        row = next((o for o in options[target] if o.pk == pk), None)
        if row is None:
            raise PermissionDenied
        field = {
            Target.STATUS: "registry_status",
            Target.BAD_RECORD: "conduct_record",
            Target.SUPERVISION: "supervision_entry",
        }[target]
        setattr(objection, field, row)
        objection.target_key = f"{target}-{row.pk}"
    else:
        raise DomainError(_("Choose what you object to."), code="target")
    policy = policy_for(jurisdiction=manager.jurisdiction)
    objection.jurisdiction = manager.jurisdiction
    objection.submitted_at = timezone.now()
    objection.due_on = add_working_days(today, policy.decision_working_days)
    _attach(objection, "evidence", "evidence_name", evidence)
    try:
        with transaction.atomic():
            objection.save()
            notices_create(
                [
                    NewNotice(
                        recipient_id=user_id,
                        kind=Notice.Kind.OBJECTION_SUBMITTED,
                        params={
                            "name": manager.real_name,
                            "due_on": objection.due_on.isoformat(),
                        },
                        link=reverse("credit:bureau_queue"),
                        year=today.year,
                        milestone=f"objection-{objection.pk}",
                    )
                    for user_id in bureau_reviewers(jurisdiction=manager.jurisdiction).values_list(
                        "pk", flat=True
                    )
                ]
            )
    except IntegrityError as error:
        raise DomainError(
            _("An objection to this is already awaiting the bureau."), code="duplicate"
        ) from error
    return objection


def objection_decide(
    *,
    actor: User,
    objection: Objection,
    uphold: bool,
    reason: str,
    remove_reasons: list[str] | None = None,
) -> Objection:
    """Bureau staff of the manager's jurisdiction uphold or reject an objection. Upheld, the
    target is corrected with its history kept: a status loses the reasons objected to (all of
    them by default) through the registry; a bad record is voided; a deduction is waived; a
    list entry is ended. The manager is told and his score recomputed."""
    if roles_of(actor).role not in BUREAU:
        raise PermissionDenied
    reason = _required(reason, _("Give the reason for the decision."))
    with transaction.atomic():
        locked = (
            selectors.objection_list_for(user=actor)
            .select_for_update(of=("self",))
            .filter(pk=objection.pk)
            .first()
        )
        if locked is None:
            raise PermissionDenied
        if locked.status != Decision.PENDING:
            raise _decided_error(locked, _("objection"))
        now = timezone.now()
        if uphold:
            _correct(locked, actor=actor, reason=reason, remove_reasons=remove_reasons, now=now)
        locked.status = Decision.UPHELD if uphold else Decision.REJECTED
        _decision_record(
            locked, actor=actor, reason=reason, now=now, kind=Notice.Kind.OBJECTION_DECIDED
        )
    return locked


def _correct(
    objection: Objection,
    *,
    actor: User,
    reason: str,
    remove_reasons: list[str] | None,
    now: dt.datetime,
) -> None:
    if objection.target == Target.STATUS:
        status = objection.registry_status
        registry_services.registry_status_correct(
            actor=actor,
            status=status,
            remove=list(remove_reasons or status.reasons),
            reason=reason,
        )
        # Automatic entries this status triggered (with the year before or after) end too.
        triggers = [f"abnormal-{status.year}", f"abnormal-{status.year + 1}"]
        for entry in SupervisionEntry.objects.select_for_update().filter(
            manager_id=objection.manager_id, trigger__in=triggers, ended_at__isnull=True
        ):
            entry.manager = objection.manager
            _end_entry(
                entry,
                actor=actor,
                cause=SupervisionEntry.EndCause.OBJECTION,
                reason=reason,
                now=now,
            )
    elif objection.target == Target.BAD_RECORD:
        registry_services.conduct_record_void(
            actor=actor, record=objection.conduct_record, reason=reason
        )
    elif objection.target == Target.DEDUCTION:
        DeductionWaiver.objects.get_or_create(
            manager_id=objection.manager_id,
            year=objection.year,
            rule=objection.deduction,
            defaults={"objection": objection},
        )
    elif objection.target == Target.SUPERVISION:
        entry = SupervisionEntry.objects.select_for_update().get(pk=objection.supervision_entry_id)
        entry.manager = objection.manager
        _end_entry(
            entry, actor=actor, cause=SupervisionEntry.EndCause.OBJECTION, reason=reason, now=now
        )


# --- credit repair ---------------------------------------------------------------------------


def repair_possible_from(*, record: ConductRecord, jurisdiction=None) -> dt.date:
    """The first day a bad record can be repaired: its start plus the policy's minimum period
    (longer for a serious record)."""
    policy = policy_for(jurisdiction=jurisdiction)
    days = (
        policy.repair_after_days_serious
        if record.severity == ConductRecord.Severity.SERIOUS
        else policy.repair_after_days
    )
    return record.effective_from + dt.timedelta(days=days)


def repair_submit(
    *,
    actor: User,
    record: ConductRecord,
    statement: str,
    proof,
    today: dt.date | None = None,
) -> RepairRequest:
    """A manager applies to repair one of his bad records in force, once its minimum period
    has passed, with a statement and proof of rectification. The bureau is told; the decision
    is due `decision_working_days` working days later."""
    manager = _own_manager(actor)
    if record.manager_id != manager.pk or record.kind != ConductRecord.Kind.BAD:
        raise PermissionDenied
    statement = _required(statement, _("Describe how the matter was put right."))
    if not proof:
        raise DomainError(_("Attach proof of the rectification."), code="proof")
    if manager.jurisdiction is None:
        raise DomainError(_("Your profile has no jurisdiction yet."), code="jurisdiction")
    today = today or timezone.localdate()
    if not ConductRecord.objects.filter(in_force_between(today, today), pk=record.pk).exists():
        raise DomainError(_("This record is no longer in force."), code="state")
    possible = repair_possible_from(record=record, jurisdiction=manager.jurisdiction)
    if today < possible:
        raise DomainError(
            _("This record can be repaired from %(date)s.") % {"date": _date(possible)},
            code="too_early",
        )
    policy = policy_for(jurisdiction=manager.jurisdiction)
    repair = RepairRequest(
        manager=manager,
        conduct_record=record,
        statement=statement,
        jurisdiction=manager.jurisdiction,
        submitted_at=timezone.now(),
        due_on=add_working_days(today, policy.decision_working_days),
    )
    _attach(repair, "proof", "proof_name", proof)
    try:
        with transaction.atomic():
            repair.save()
            notices_create(
                [
                    NewNotice(
                        recipient_id=user_id,
                        kind=Notice.Kind.REPAIR_SUBMITTED,
                        params={"name": manager.real_name, "due_on": repair.due_on.isoformat()},
                        link=reverse("credit:bureau_queue"),
                        year=today.year,
                        milestone=f"repair-{repair.pk}",
                    )
                    for user_id in bureau_reviewers(jurisdiction=manager.jurisdiction).values_list(
                        "pk", flat=True
                    )
                ]
            )
    except IntegrityError as error:
        raise DomainError(
            _("A repair of this record is already awaiting the bureau."), code="duplicate"
        ) from error
    return repair


def repair_decide(
    *, actor: User, repair: RepairRequest, approve: bool, reason: str
) -> RepairRequest:
    """Bureau staff of the manager's jurisdiction approve or reject a repair. Approved, the
    record's effect ends today (through the registry; the record is kept). The manager is told
    and his score recomputed."""
    if roles_of(actor).role not in BUREAU:
        raise PermissionDenied
    reason = _required(reason, _("Give the reason for the decision."))
    with transaction.atomic():
        locked = (
            selectors.repair_list_for(user=actor)
            .select_for_update(of=("self",))
            .filter(pk=repair.pk)
            .first()
        )
        if locked is None:
            raise PermissionDenied
        if locked.status != RepairRequest.Status.PENDING:
            raise _decided_error(locked, _("repair request"))
        now = timezone.now()
        if approve:
            registry_services.conduct_record_repair(
                actor=actor, record=locked.conduct_record, on=timezone.localdate()
            )
        locked.status = RepairRequest.Status.APPROVED if approve else RepairRequest.Status.REJECTED
        _decision_record(
            locked, actor=actor, reason=reason, now=now, kind=Notice.Kind.REPAIR_DECIDED
        )
    return locked


def _decision_record(locked, *, actor: User, reason: str, now, kind: str) -> None:
    """What deciding an objection or a repair request records once its status is set: who,
    when and why; the manager's notice; his score recomputed."""
    locked.decided_at = now
    locked.decided_by = actor
    locked.decision_reason = reason
    locked.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
    prefix = "objection" if kind == Notice.Kind.OBJECTION_DECIDED else "repair"
    notices_create(
        [
            NewNotice(
                recipient_id=locked.manager.user_id,
                kind=kind,
                params={"status": locked.status, "reason": reason},
                link=reverse("credit:my_credit"),
                year=now.year,
                milestone=f"{prefix}-{locked.pk}",
            )
        ]
    )
    credit_refresh(manager=locked.manager_id)
