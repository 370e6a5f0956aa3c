"""Writes of the registry: the filing workflow, one function per transition.

Every transition takes the acting user, locks the filing row (`select_for_update`), checks who
may act and the current state, saves, records a `ReviewEvent` and queues the notifications after
the commit. Two reviewers acting at once: the second waits for the first's lock, then finds the
state changed and is told what happened. Nothing is written when a check fails."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Employment, ManagerProfile, User
from accounts.roles import Role, roles_of
from accounts.selectors import current_employment, manager_list_for
from core.bulk import decide_each
from core.errors import DomainError
from core.jurisdictions import nearest_in
from core.pages import images_to_pdf
from core.uploads import validate_upload
from notifications.models import EVENT_PREFIX, Notice
from notifications.routing import bureau_reviewers, firm_reviewers
from notifications.services import NewNotice, notices_create
from training.pdf import transcript_pdf
from training.selectors import compliance_for
from training.services import study_year_lock, study_year_unlock

from . import selectors
from .models import (
    AnnualFiling,
    ConductRecord,
    CreditEntry,
    FilingExtension,
    FilingProof,
    FilingWindow,
    ProofMark,
    RegistryStatus,
    ReviewEvent,
)
from .status import registry_status_decide, registry_status_refresh

Status = AnnualFiling.Status
Action = ReviewEvent.Action

#: action → (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    Action.SUBMIT: ((Status.DRAFT, Status.RETURNED), Status.AWAITING_FIRM),
    Action.WITHDRAW: ((Status.AWAITING_FIRM,), Status.DRAFT),
    Action.FIRM_APPROVE: ((Status.AWAITING_FIRM,), Status.AWAITING_BUREAU),
    Action.FIRM_RETURN: ((Status.AWAITING_FIRM,), Status.RETURNED),
    Action.BUREAU_APPROVE: ((Status.AWAITING_BUREAU,), Status.APPROVED),
    Action.BUREAU_RETURN: ((Status.AWAITING_BUREAU,), Status.RETURNED),
    Action.BUREAU_REVOKE: ((Status.APPROVED,), Status.REVOKED),
}

#: Who acts at each stage (bureau stage: bureau staff, or an administrator).
MANAGER = (Role.MANAGER,)
FIRM = (Role.FIRM,)
BUREAU = (Role.BUREAU, Role.ADMIN)

# No 0/O, 1/I/L: the code is read off paper and typed in by hand.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12


# --- helpers ---------------------------------------------------------------------------------


def _own_manager(actor: User) -> ManagerProfile:
    roles = roles_of(actor)
    if roles.role != Role.MANAGER or roles.manager_profile is None:
        raise PermissionDenied
    return roles.manager_profile


def _lock_for(actor: User, filing: AnnualFiling, roles: tuple[Role, ...]) -> AnnualFiling:
    """Lock the filing for `actor`, who must have one of `roles` and reach it through the same
    scoped read as every page (a manager his own; a firm the filings it reviews of managers it
    still employs; bureau staff their jurisdiction's). Outside that: PermissionDenied."""
    if roles_of(actor).role not in roles:
        raise PermissionDenied
    locked = (
        selectors.filing_list_for(user=actor)
        .select_for_update(of=("self",))
        .filter(pk=filing.pk)
        .first()
    )
    if locked is None:
        raise PermissionDenied
    return locked


def _bureau_scoped_manager(actor: User, manager_id: int) -> ManagerProfile:
    """The manager, if `actor` is bureau staff (or an administrator) whose jurisdiction covers
    him; otherwise PermissionDenied."""
    if roles_of(actor).role not in BUREAU:
        raise PermissionDenied
    manager = manager_list_for(user=actor).filter(pk=manager_id).first()
    if manager is None:
        raise PermissionDenied
    return manager


def _date(value: dt.date) -> str:
    return formats.date_format(value, "DATE_FORMAT")


def _state_error(filing: AnnualFiling, action: str) -> DomainError:
    """Why `action` cannot happen now, naming the last thing that did happen (a double click or
    a colleague who was quicker)."""
    last = filing.events.select_related("actor").order_by("-created_at", "-pk").first()
    if last is not None and last.action != Action.START:
        return DomainError(
            _(
                "This filing is now “%(status)s”: %(action)s by %(actor)s at %(time)s. "
                "Nothing was changed."
            )
            % {
                "status": filing.get_status_display(),
                "action": last.get_action_display(),
                "actor": last.actor.get_full_name() or last.actor.email,
                "time": formats.date_format(timezone.localtime(last.created_at), "DATETIME_FORMAT"),
            },
            code="state",
        )
    return DomainError(
        _("This filing is “%(status)s”; “%(action)s” is not possible now. Nothing was changed.")
        % {"status": filing.get_status_display(), "action": Action(action).label},
        code="state",
    )


def _transition(*, filing: AnnualFiling, actor: User, action: str, reason: str = "") -> ReviewEvent:
    """Move a locked filing along `action`, record the event, notify after the commit."""
    sources, target = TRANSITIONS[action]
    if filing.status not in sources:
        raise _state_error(filing, action)
    event = ReviewEvent.objects.create(
        filing=filing,
        actor=actor,
        action=action,
        from_status=filing.status,
        to_status=target,
        reason=reason,
    )
    filing.status = target
    filing._change_reason = action  # noqa: SLF001 (simple-history's way to label a change)
    filing.save()
    # The year's study records are what the filing reports: frozen while it is under review or
    # approved, open again when it comes back to the manager.
    if target in AnnualFiling.LOCKED:
        study_year_lock(manager_id=filing.manager_id, year=filing.year)
    else:
        study_year_unlock(manager_id=filing.manager_id, year=filing.year)
    notices_create(_event_notices(event, filing))
    return event


def _event_notices(event: ReviewEvent, filing: AnnualFiling) -> list[NewNotice]:
    """Who an event concerns (the next actor and the manager), as notices keyed by the event:
    written in the transition's transaction, e-mailed after its commit."""
    own = reverse("registry:my_filing") + f"?year={filing.year}"
    firm_link = reverse("registry:firm_filing_detail", args=[filing.pk])
    reviewers = (
        list(firm_reviewers(firm_id=filing.firm_id).values_list("pk", flat=True))
        if filing.firm_id
        else []
    )
    K, A = Notice.Kind, Action
    out: list[tuple[int, str, str]] = []
    if event.action == A.SUBMIT:
        out.append((filing.manager.user_id, K.FILING_SUBMITTED, own))
        out += [(pk, K.FILING_TO_REVIEW, firm_link) for pk in reviewers]
    elif event.action == A.WITHDRAW:
        out += [(pk, K.FILING_WITHDRAWN, reverse("registry:firm_queue")) for pk in reviewers]
    elif event.action == A.FIRM_APPROVE:
        out.append((filing.manager.user_id, K.FILING_FORWARDED, own))
        admin_link = reverse("admin:registry_annualfiling_change", args=[filing.pk])
        bureau = bureau_reviewers(jurisdiction=filing.jurisdiction)
        out += [(pk, K.FILING_TO_REVIEW, admin_link) for pk in bureau.values_list("pk", flat=True)]
    elif event.action in (A.FIRM_RETURN, A.BUREAU_RETURN):
        out.append((filing.manager.user_id, K.FILING_RETURNED, own))
        if event.action == A.BUREAU_RETURN:
            out += [(pk, K.FILING_RETURNED, firm_link) for pk in reviewers]
    elif event.action == A.BUREAU_APPROVE:
        out.append((filing.manager.user_id, K.FILING_APPROVED, own))
        out += [(pk, K.FILING_APPROVED, firm_link) for pk in reviewers]
    elif event.action == A.BUREAU_REVOKE:
        out.append((filing.manager.user_id, K.FILING_REVOKED, own))
        # The firm no longer reaches a filing of a manager it stopped employing: no link then.
        out += [(pk, K.FILING_REVOKED, reverse("overview:firm_managers")) for pk in reviewers]
    params = {
        "year": filing.year,
        "name": filing.manager.real_name,
        "firm": filing.firm.name if filing.firm_id else "",
        "reason": event.reason,
    }
    return [
        NewNotice(
            recipient_id=user_id,
            kind=kind,
            link=link,
            params=params,
            year=filing.year,
            milestone=f"{EVENT_PREFIX}{event.pk}",
        )
        for user_id, kind, link in out
    ]


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            _("Give the reason for the return; the manager will see it."), code="reason"
        )
    return reason


# --- the manager's side ----------------------------------------------------------------------


def filing_start(*, actor: User, year: int) -> AnnualFiling:
    """Open the manager's filing for `year` (a draft). Repeating it returns the same filing."""
    manager = _own_manager(actor)
    existing = selectors.filing_of(manager=manager, year=year)
    if existing is not None:
        return existing
    if not manager.is_complete:
        raise DomainError(_("Complete your profile first."), code="profile")
    deadline = selectors.deadline_for(manager=manager, year=year)
    today = timezone.localdate()
    # Preparing starts before the window opens (the draft and its proofs); submitting waits
    # for the window (`filing_submission_errors`).
    if not deadline.allows_preparing(today):
        if today < deadline.prepare_from:
            raise DomainError(
                _("The %(year)s filing can be prepared from %(date)s.")
                % {"year": year, "date": _date(deadline.prepare_from)},
                code="window",
            )
        raise _window_error(deadline, today)
    try:
        with transaction.atomic():
            filing = AnnualFiling.objects.create(
                manager=manager, year=year, jurisdiction=manager.jurisdiction
            )
            ReviewEvent.objects.create(
                filing=filing, actor=actor, action=Action.START, to_status=Status.DRAFT
            )
    except IntegrityError:  # a double click: the other request made it
        return AnnualFiling.objects.get(manager=manager, year=year)
    return filing


def _window_error(deadline: selectors.Deadline, today: dt.date) -> DomainError:
    window = deadline.window
    if today < window.opens_on:
        return DomainError(
            _("The %(year)s filing window opens on %(date)s.")
            % {"year": window.year, "date": _date(window.opens_on)},
            code="window",
        )
    return DomainError(
        _(
            "The %(year)s filing window closed on %(date)s. Ask your housing bureau for an "
            "extension if you could not file in time."
        )
        % {"year": window.year, "date": _date(deadline.last_day)},
        code="window",
    )


def _own_editable(actor: User, filing: AnnualFiling) -> AnnualFiling:
    filing = _lock_for(actor, filing, MANAGER)
    if not filing.is_editable:
        raise DomainError(
            _(
                "This filing is “%(status)s”; its proofs can be changed only in a draft or after a return."
            )
            % {"status": filing.get_status_display()},
            code="state",
        )
    return filing


def filing_proof_upload(
    *, actor: User, filing: AnnualFiling, kind: str, file, generated: bool = False
) -> FilingProof:
    """Add a proof of `kind`, or replace the current one (the old file stays in the history)."""
    if kind not in FilingProof.Kind.values:
        raise DomainError(_("Unknown kind of proof."), code="kind")
    mime = getattr(file, "detected_mime", None) or validate_upload(file)
    with transaction.atomic():
        filing = _own_editable(actor, filing)
        _proof_retire(filing, kind)
        proof = FilingProof(
            filing=filing,
            kind=kind,
            original_name=(getattr(file, "name", "") or "proof")[:255],
            mime=mime,
            size=getattr(file, "size", 0) or 0,
            generated=generated,
            uploaded_by=actor,
        )
        proof._detected_mime = mime  # noqa: SLF001 (PrivateUploadTo reads it)
        proof.file.save(proof.original_name, file, save=False)
        proof.content_hash = content_hash(proof.file)
        proof.save()
        _duplicates_flag(proof)
    return proof


def _other_managers_copies(*, content_hash: str, manager_id: int):
    """Current proofs of other managers with this content."""
    return FilingProof.objects.filter(content_hash=content_hash, replaced_at__isnull=True).exclude(
        filing__manager_id=manager_id
    )


def _duplicates_flag(proof: FilingProof) -> None:
    """A proof whose content is also a current proof of another manager flags both filings
    (one UPDATE; `updated_at` is left alone). Cleared only when a filing is submitted again
    without such a proof (`filing_submit`)."""
    if not proof.content_hash:
        return
    copies = _other_managers_copies(
        content_hash=proof.content_hash, manager_id=proof.filing.manager_id
    )
    if copies.exists():
        AnnualFiling.objects.filter(
            Q(pk=proof.filing_id) | Q(pk__in=copies.values("filing_id"))
        ).update(duplicate_document=True)


def content_hash(file) -> str:
    """SHA-256 of a stored file's content (hex): the same document under two managers."""
    digest = hashlib.sha256()
    file.open("rb")
    try:
        for chunk in file.chunks():
            digest.update(chunk)
    finally:
        file.close()
    return digest.hexdigest()


def filing_proof_upload_pages(
    *, actor: User, filing: AnnualFiling, kind: str, files: list
) -> FilingProof:
    """Add a proof from one file (stored as it is) or from several photos, e.g. the two sides
    of an ID card: turned upright, downscaled and combined into one PDF (`core.pages`), which
    is then checked and stored like any uploaded PDF (`filing_proof_upload`)."""
    if len(files) == 1:
        return filing_proof_upload(actor=actor, filing=filing, kind=kind, file=files[0])
    if kind not in FilingProof.Kind.values:
        raise DomainError(_("Unknown kind of proof."), code="kind")
    _own_editable_check(actor, filing)  # refuse before the work of combining
    return filing_proof_upload(actor=actor, filing=filing, kind=kind, file=images_to_pdf(files))


def _own_editable_check(actor: User, filing: AnnualFiling) -> None:
    with transaction.atomic():
        _own_editable(actor, filing)


def _proof_retire(filing: AnnualFiling, kind: str) -> None:
    """Mark the filing's current proof of `kind` replaced (it stays, with its file)."""
    now = timezone.now()
    for old in FilingProof.objects.select_for_update().filter(
        filing=filing, kind=kind, replaced_at__isnull=True
    ):
        old.replaced_at = now
        old._change_reason = "replaced"  # noqa: SLF001
        old.save(update_fields=["replaced_at"])


def filing_proof_reuse(*, actor: User, filing: AnnualFiling, kind: str) -> FilingProof:
    """Use last year's proof of `kind` again (the document wallet, `selectors.reusable_proofs`:
    ID card, diploma or title certificate of the latest approved earlier filing).

    A new current proof of this filing that points to the same stored file (no copy; the
    earlier filing's proof is untouched, the replaced one of this filing stays in the history).
    A second tap finds the file already in use and returns the current proof."""
    with transaction.atomic():
        filing = _own_editable(actor, filing)
        source = selectors.reusable_proofs(filing=filing, exclude_in_use=False).get(kind)
        current = FilingProof.objects.filter(
            filing=filing, kind=kind, replaced_at__isnull=True
        ).first()
        if source is not None and current is not None and current.file.name == source.file.name:
            return current  # already in use (a double tap)
        if source is None:
            raise DomainError(
                _("There is no proof of this kind from an approved earlier filing to use."),
                code="reuse",
            )
        _proof_retire(filing, kind)
        proof = FilingProof(
            filing=filing,
            kind=kind,
            file=source.file.name,  # the same stored file: nothing is copied or re-uploaded
            original_name=source.original_name,
            mime=source.mime,
            size=source.size,
            content_hash=source.content_hash,
            uploaded_by=actor,
        )
        proof._change_reason = f"reused from the {source.filing.year} filing"  # noqa: SLF001
        proof.save()
        _duplicates_flag(proof)
    return proof


def filing_proof_use_transcript(*, actor: User, filing: AnnualFiling) -> FilingProof:
    """Use the portal's transcript of the filing year as the continuing-education proof."""
    manager = _own_manager(actor)
    content = ContentFile(transcript_pdf(manager=manager, year=filing.year))
    content.name = f"学时证明-{filing.year}.pdf"
    content.detected_mime = "application/pdf"
    return filing_proof_upload(
        actor=actor, filing=filing, kind=FilingProof.Kind.CE, file=content, generated=True
    )


#: "Not given": `filing_submission_errors` then reads the current employment itself.
_UNREAD = object()


def filing_submission_errors(
    *,
    filing: AnnualFiling,
    today: dt.date,
    deadline: selectors.Deadline | None = None,
    employment: Employment | None | object = _UNREAD,
) -> list[str]:
    """Everything that stops the filing from being submitted today; empty when nothing does.
    A page that has already read the deadline, the current employment (None: none) or the
    filing's proofs (prefetched) passes them in and saves their queries."""
    errors: list[str] = []
    manager = filing.manager
    if deadline is None:
        deadline = selectors.deadline_for(manager=manager, year=filing.year)
    if not deadline.allows(today):
        errors.append(str(_window_error(deadline, today).messages[0]))
    if not manager.is_registered:
        errors.append(
            str(
                _(
                    "Your registration is not in force (%(status)s): a filing is submitted with "
                    "a registration number in force."
                )
                % {"status": manager.get_registration_status_display()}
            )
        )
    if employment is _UNREAD:
        employment = current_employment(manager=manager)
    if employment is None:
        errors.append(
            str(
                _(
                    "You have no confirmed current employment. Ask your firm to confirm it (or "
                    "request it under Employment) before submitting."
                )
            )
        )
    if "proofs" in getattr(filing, "_prefetched_objects_cache", {}):
        have = set(selectors.current_proofs(filing))
    else:
        have = set(
            FilingProof.objects.filter(filing=filing, replaced_at__isnull=True).values_list(
                "kind", flat=True
            )
        )
    for kind in FilingProof.Kind:
        if kind.value not in have:
            errors.append(str(_("Missing proof: %(kind)s.") % {"kind": kind.label}))
    return errors


def _snapshot(manager: ManagerProfile, employment: Employment, year: int) -> dict:
    """What the reviewers see: frozen at submission, so later edits do not change it. The ID
    number is kept masked only."""
    compliance = compliance_for(manager=manager, year=year)
    firm = employment.firm

    def dec(value):
        return None if value is None else str(value)

    return {
        "profile": {
            "real_name": manager.real_name,
            "masked_id_number": manager.masked_id_number,
            "registration_number": manager.registration_number,
            "phone": manager.phone,
            "education": manager.education,
            "title": manager.title,
            "skill_level": manager.skill_level,
            "certificate_number": manager.certificate_number,
        },
        "firm": {
            "id": firm.pk,
            "name": firm.name,
            "credit_code": firm.credit_code,
            "jurisdiction": firm.jurisdiction.name,
        },
        "employment": {
            "position": employment.position,
            "start_date": employment.start_date.isoformat() if employment.start_date else None,
        },
        "compliance": {
            "year": year,
            "has_rule": compliance.has_rule,
            "required_year": dec(compliance.required_year),
            "required_cycle": dec(compliance.required_cycle),
            "cycle_start": compliance.cycle_start,
            "hours_year": dec(compliance.hours_year),
            "hours_cycle": dec(compliance.hours_cycle),
            "hours_needed": dec(compliance.hours_needed),
            "compliant": compliance.compliant,
        },
    }


def filing_submit(*, actor: User, filing: AnnualFiling) -> AnnualFiling:
    with transaction.atomic():
        filing = _lock_for(actor, filing, MANAGER)
        if filing.status not in TRANSITIONS[Action.SUBMIT][0]:
            raise _state_error(filing, Action.SUBMIT)
        errors = filing_submission_errors(filing=filing, today=timezone.localdate())
        if errors:
            raise DomainError(errors, code="incomplete")
        employment = current_employment(manager=filing.manager)
        filing.snapshot = _snapshot(filing.manager, employment, filing.year)
        compliance = filing.snapshot["compliance"]
        filing.hours_short_at_submission = bool(
            compliance["has_rule"] and not compliance["compliant"]
        )
        current = FilingProof.objects.filter(filing=filing, replaced_at__isnull=True)
        filing.ce_uploaded = current.filter(kind=FilingProof.Kind.CE, generated=False).exists()
        filing.duplicate_document = (
            current.exclude(content_hash="")
            .filter(
                Exists(
                    FilingProof.objects.filter(
                        content_hash=OuterRef("content_hash"), replaced_at__isnull=True
                    ).exclude(filing__manager_id=filing.manager_id)
                )
            )
            .exists()
        )
        filing.firm = employment.firm
        filing.jurisdiction = employment.firm.jurisdiction
        filing.round += 1
        filing.submitted_at = timezone.now()
        filing.firm_approved_at = None
        _transition(filing=filing, actor=actor, action=Action.SUBMIT)
        _marks_resolve(filing)
    return filing


def _marks_resolve(filing: AnnualFiling) -> None:
    """At a resubmission the open correction marks are closed, each recording whether its
    proof was replaced (or added) since the return. One UPDATE."""
    still_current = FilingProof.objects.filter(pk=OuterRef("proof_id"), replaced_at__isnull=True)
    ProofMark.objects.filter(filing=filing, resolved_at__isnull=True).update(
        resolved_at=timezone.now(), replaced=~Exists(still_current)
    )


def filing_withdraw(*, actor: User, filing: AnnualFiling) -> AnnualFiling:
    with transaction.atomic():
        filing = _lock_for(actor, filing, MANAGER)
        _transition(filing=filing, actor=actor, action=Action.WITHDRAW)
    return filing


# --- the firm's review -----------------------------------------------------------------------


def filing_firm_approve(*, actor: User, filing: AnnualFiling) -> AnnualFiling:
    """Approve at the firm stage and forward to the bureau."""
    with transaction.atomic():
        filing = _lock_for(actor, filing, FIRM)
        filing.firm_approved_at = timezone.now()
        _transition(filing=filing, actor=actor, action=Action.FIRM_APPROVE)
    return filing


def _return(
    *,
    actor: User,
    filing: AnnualFiling,
    reason: str,
    roles: tuple[Role, ...],
    action: str,
    marks: dict[str, str] | None = None,
) -> AnnualFiling:
    """Return a filing to its manager, with the reason he reads at the top of his page and,
    in `marks` (proof kind → note), the proofs he must correct. A return in the last days of
    his window (or after it closed, the filing having been under review) extends his deadline
    (`_late_return_extension`)."""
    reason = _reason(reason)
    marks = _clean_marks(marks)
    with transaction.atomic():
        filing = _lock_for(actor, filing, roles)
        filing.return_reason = reason
        filing.return_count += 1
        event = _transition(filing=filing, actor=actor, action=action, reason=reason)
        current = {
            p.kind: p.pk
            for p in FilingProof.objects.filter(filing=filing, replaced_at__isnull=True)
        }
        ProofMark.objects.bulk_create(
            [
                ProofMark(
                    filing=filing, event=event, kind=kind, proof_id=current.get(kind), note=note
                )
                for kind, note in marks.items()
            ]
        )
        _late_return_extension(filing=filing, actor=actor)
    return filing


def _clean_marks(marks: dict[str, str] | None) -> dict[str, str]:
    """The marked proofs, each with its note (required)."""
    cleaned: dict[str, str] = {}
    for kind, note in (marks or {}).items():
        if kind not in FilingProof.Kind.values:
            raise DomainError(_("Unknown kind of proof."), code="kind")
        note = (note or "").strip()
        if not note:
            raise DomainError(
                _("Say what to correct in “%(kind)s”.") % {"kind": FilingProof.Kind(kind).label},
                code="mark",
            )
        cleaned[kind] = note
    return cleaned


def return_grace_days(*, manager: ManagerProfile, year: int) -> int:
    """Days a late return adds to the deadline: the nearest filing window of the manager's
    jurisdiction (itself, then up the tree) that sets a number, else the setting."""
    if manager.jurisdiction is not None:
        days = (
            nearest_in(
                FilingWindow.objects.filter(year=year, return_grace_days__isnull=False),
                path=manager.jurisdiction.path,
            )
            .values_list("return_grace_days", flat=True)
            .first()
        )
        if days is not None:
            return days
    return settings.REGISTRY_RETURN_GRACE_DAYS


def _late_return_extension(*, filing: AnnualFiling, actor: User) -> FilingExtension | None:
    """A return in the last `REGISTRY_LATE_RETURN_DAYS` days of the manager's deadline, or
    after it (the filing was under review when the window closed), gives him
    `return_grace_days` more, counted from the deadline or from today if later, as an
    extension with its reason (never shortening one). The manager is told."""
    manager = filing.manager
    today = timezone.localdate()
    last_day = selectors.deadline_for(manager=manager, year=filing.year).last_day
    if (last_day - today).days >= settings.REGISTRY_LATE_RETURN_DAYS:
        return None
    days = return_grace_days(manager=manager, year=filing.year)
    if days <= 0:
        return None
    until = max(last_day, today) + dt.timedelta(days=days)
    # Stored text, read by the manager and the bureau: in the portal's language.
    with translation.override(settings.LANGUAGE_CODE):
        reason = gettext(
            "Returned on %(date)s, near or after the deadline: %(days)s more days to correct it."
        ) % {"date": _date(today), "days": days}
    extension, _created = FilingExtension.objects.update_or_create(
        manager=manager,
        year=filing.year,
        defaults={"until": until, "reason": reason, "granted_by": actor},
    )
    notices_create(
        [
            NewNotice(
                recipient_id=manager.user_id,
                kind=Notice.Kind.FILING_EXTENDED,
                link=reverse("registry:my_filing") + f"?year={filing.year}",
                params={"year": filing.year, "until": until.isoformat(), "reason": reason},
                year=filing.year,
                milestone=f"ext-{until:%Y%m%d}",
            )
        ]
    )
    return extension


def filing_firm_return(
    *, actor: User, filing: AnnualFiling, reason: str, marks: dict[str, str] | None = None
) -> AnnualFiling:
    return _return(
        actor=actor,
        filing=filing,
        reason=reason,
        roles=FIRM,
        action=Action.FIRM_RETURN,
        marks=marks,
    )


# --- the bureau's review ---------------------------------------------------------------------


def _new_certificate_code() -> str:
    while True:
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if not AnnualFiling.objects.filter(certificate_code=code).exists():
            return code


def filing_bureau_approve(*, actor: User, filing: AnnualFiling) -> AnnualFiling:
    """Approve (备案): the filing is done and its certificate can be downloaded."""
    with transaction.atomic():
        filing = _lock_for(actor, filing, BUREAU)
        if filing.status == Status.AWAITING_BUREAU:
            filing.approved_at = timezone.now()
            filing.certificate_code = filing.certificate_code or _new_certificate_code()
        _transition(filing=filing, actor=actor, action=Action.BUREAU_APPROVE)
        # Approved after the window closed (an extension, or a slow review): the year's status
        # is decided again.
        refreshed = registry_status_refresh(
            manager=filing.manager,
            year=filing.year,
            cause=CreditEntry.Cause.LATE_APPROVAL,
            actor=actor,
        )
        if refreshed is None:
            # Under review when the window closed: the year waited for this decision.
            deadline = selectors.deadline_for(manager=filing.manager, year=filing.year)
            if deadline.last_day < timezone.localdate():
                registry_status_decide(
                    manager=filing.manager,
                    year=filing.year,
                    last_day=deadline.last_day,
                    cause=CreditEntry.Cause.LATE_APPROVAL,
                    actor=actor,
                )
    return filing


def filing_bureau_return(
    *, actor: User, filing: AnnualFiling, reason: str, marks: dict[str, str] | None = None
) -> AnnualFiling:
    return _return(
        actor=actor,
        filing=filing,
        reason=reason,
        roles=BUREAU,
        action=Action.BUREAU_RETURN,
        marks=marks,
    )


def filing_revoke(*, actor: User, filing: AnnualFiling, reason: str) -> AnnualFiling:
    """Revoke (撤销) an approved filing, with the reason: its certificate no longer verifies
    (/verify/ says revoked, with the date), the year's status is decided again (the filing no
    longer counts as approved), the manager and the firm are told. Final; repeating is
    harmless."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give the reason for the revocation."), code="reason")
    with transaction.atomic():
        filing = _lock_for(actor, filing, BUREAU)
        if filing.status == Status.REVOKED:
            return filing
        filing.revoked_at = timezone.now()
        filing.revoke_reason = reason
        _transition(filing=filing, actor=actor, action=Action.BUREAU_REVOKE, reason=reason)
        registry_status_refresh(
            manager=filing.manager,
            year=filing.year,
            cause=CreditEntry.Cause.REVOKED,
            actor=actor,
        )
    return filing


# --- windows and extensions ------------------------------------------------------------------


def extension_until_error(*, manager: ManagerProfile, year: int, until: dt.date) -> str | None:
    """Why `until` cannot be a manager's new deadline (None if it can): it must fall after the
    window closes. The admin form shows it next to the field; the service enforces it."""
    window = selectors.window_for(jurisdiction=manager.jurisdiction, year=year)
    if until <= window.closes_on:
        return str(
            _("The new deadline must be after the window closes (%(date)s).")
            % {"date": _date(window.closes_on)}
        )
    return None


def filing_extension_grant(
    *, actor: User, manager: ManagerProfile, year: int, until: dt.date, reason: str
) -> FilingExtension:
    """Give one manager a later deadline for a year (or change the one given)."""
    _bureau_scoped_manager(actor, manager.pk)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError({"reason": [_("Give the reason for the extension.")]}, code="reason")
    error = extension_until_error(manager=manager, year=year, until=until)
    if error:
        raise DomainError({"until": [error]}, code="until")
    extension, _created = FilingExtension.objects.update_or_create(
        manager=manager,
        year=year,
        defaults={"until": until, "reason": reason, "granted_by": actor},
    )
    return extension


def filing_decide_each(
    *, actor: User, filings, decide, **kwargs
) -> list[tuple[AnnualFiling, str | None]]:
    """Apply one decision (e.g. `filing_firm_approve`) to several filings, each in its own
    transaction: (filing, None) when done, (filing, why not) when refused."""
    return decide_each(filings, decide, item_arg="filing", actor=actor, **kwargs)


# --- the year's registry status and conduct records ----------------------------------------------


def conduct_record_save(*, actor: User, record: ConductRecord) -> ConductRecord:
    """Enter or change a conduct record (bureau staff of the manager's jurisdiction). The
    statuses already decided for the manager are decided again: a bad record in force can make
    a year abnormal, its end or removal normal again."""
    manager = _bureau_scoped_manager(actor, record.manager_id)
    if record.pk is None:
        record.recorded_by = actor
    with transaction.atomic():
        record.save()
        for year in RegistryStatus.objects.filter(manager=manager).values_list("year", flat=True):
            registry_status_refresh(
                manager=manager, year=year, cause=CreditEntry.Cause.CONDUCT, actor=actor
            )
    return record


# --- corrections after an objection, and credit repair (called by the credit app) ------------


def _refresh_all_years(manager: ManagerProfile, *, actor: User, cause: str) -> None:
    for year in RegistryStatus.objects.filter(manager=manager).values_list("year", flat=True):
        registry_status_refresh(manager=manager, year=year, cause=cause, actor=actor)


def conduct_record_void(*, actor: User, record: ConductRecord, reason: str) -> ConductRecord:
    """Void a conduct record after an upheld objection (bureau staff of the manager's
    jurisdiction): kept with who voided it and why, in force never again; the statuses already
    decided are decided again. Voiding a voided record changes nothing."""
    manager = _bureau_scoped_manager(actor, record.manager_id)
    with transaction.atomic():
        locked = ConductRecord.objects.select_for_update().get(pk=record.pk)
        if locked.voided_at is not None:
            return locked
        locked.voided_at = timezone.now()
        locked.voided_by = actor
        locked.void_reason = reason
        locked._change_reason = reason
        locked.save(update_fields=["voided_at", "voided_by", "void_reason", "updated_at"])
        _refresh_all_years(manager, actor=actor, cause=CreditEntry.Cause.CORRECTED)
    return locked


def conduct_record_repair(*, actor: User, record: ConductRecord, on: dt.date) -> ConductRecord:
    """End a bad record's effect from `on` after an approved credit repair (信用修复): in force
    until the day before. Repeating it changes nothing."""
    manager = _bureau_scoped_manager(actor, record.manager_id)
    with transaction.atomic():
        locked = ConductRecord.objects.select_for_update().get(pk=record.pk)
        if locked.repaired_on is not None:
            return locked
        locked.repaired_on = on
        locked.save(update_fields=["repaired_on", "updated_at"])
        _refresh_all_years(manager, actor=actor, cause=CreditEntry.Cause.CONDUCT)
    return locked


def registry_status_correct(
    *, actor: User, status: RegistryStatus, remove: list[str], reason: str
) -> RegistryStatus:
    """Take reasons off a decided status after an upheld objection: they stay off when the
    status is decided again (`removed_reasons`), the change is written to the credit record and
    the manager told if the status changes. Removing reasons already gone changes nothing."""
    manager = _bureau_scoped_manager(actor, status.manager_id)
    with transaction.atomic():
        locked = RegistryStatus.objects.select_for_update().get(pk=status.pk)
        removed = sorted(set(locked.removed_reasons) | set(remove))
        reasons = [r for r in locked.reasons if r not in removed]
        if removed == sorted(locked.removed_reasons) and reasons == locked.reasons:
            return locked
        previous = locked.status
        now = timezone.now()
        locked.removed_reasons = removed
        locked.reasons = reasons
        locked.status = RegistryStatus.Status.ABNORMAL if reasons else RegistryStatus.Status.NORMAL
        locked.corrected_at = now
        locked.corrected_by = actor
        locked.updated_at = now
        locked.save()
        entry = CreditEntry.objects.create(
            manager_id=manager.pk,
            year=locked.year,
            status=locked.status,
            previous_status=previous,
            reasons=reasons,
            cause=CreditEntry.Cause.CORRECTED,
            actor=actor,
            created_at=now,
        )
        if locked.status != previous:
            notices_create(
                [
                    NewNotice(
                        recipient_id=manager.user_id,
                        kind=Notice.Kind.STATUS_ABNORMAL
                        if locked.is_abnormal
                        else Notice.Kind.STATUS_NORMAL,
                        params={"year": locked.year, "reasons": reasons},
                        link=reverse("registry:credit_record"),
                        year=locked.year,
                        milestone=f"entry-{entry.pk}",
                    )
                ]
            )
    return locked
