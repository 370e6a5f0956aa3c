"""Writes of the accounts app. Each takes the acting user, checks the rule, locks what it changes
and raises `DomainError` (a translatable ValidationError) when the move is not allowed."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from core.broker import publish
from core.errors import DomainError
from core.jurisdictions import nearest_in
from core.ratelimit import Limit, hit
from core.sms import SmsError, sms_enabled, sms_send

from . import identity
from .access import can_answer_employment, can_cancel_employment, can_end_employment
from .models import (
    BureauMembership,
    Employment,
    Firm,
    FirmInvitation,
    FirmMembership,
    Jurisdiction,
    ManagerProfile,
    PhoneCode,
    RegistrationEvent,
    RegistrationRule,
    RegistrationStatus,
    StaffInvitation,
    User,
)
from .roles import Role, roles_of
from .selectors import (
    current_employment,
    jurisdiction_list_for,
    manager_list_for,
    staff_invitation_jurisdictions_for,
)
from .validators import (
    normalize_credit_code,
    normalize_id_number,
    normalize_mobile,
    validate_id_number,
    validate_mainland_mobile,
)

REGISTRATION_PREFIX = "PM"


def id_number_hash(id_number: str, *, key: str | None = None) -> str:
    """The blind index of an ID number: HMAC-SHA256 with ID_HASH_KEY, hex. Never reversible."""
    key = key if key is not None else settings.ID_HASH_KEY
    return hmac.new(key.encode(), id_number.encode(), hashlib.sha256).hexdigest()


def registration_number_next() -> str:
    """`PM` + year of issue + a six-digit serial from a PostgreSQL sequence, e.g. PM2026000042.

    A sequence never hands out the same value twice, even when a transaction rolls back, so a
    registration number is never reused."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('accounts_registration_number_seq')")
        (serial,) = cursor.fetchone()
    return f"{REGISTRATION_PREFIX}{timezone.localdate().year}{serial:06d}"


def _require_manager(actor: User) -> None:
    if roles_of(actor).role != Role.MANAGER:
        raise PermissionDenied


def profile_save(*, actor: User, data: dict) -> ManagerProfile:
    """Create or update the actor's own manager profile.

    Completing it lets the manager use the portal; the registration number comes later, when
    the firm confirms the employment (and the bureau approves, where it requires that; see
    `registration_advance`). The real name and the ID number are fixed once entered:
    corrections go through the bureau.
    """
    _require_manager(actor)
    data = dict(data)
    if "phone" in data:
        data["phone"] = normalize_mobile(data["phone"])
        validate_mainland_mobile(data["phone"])
    if not ManagerProfile.objects.filter(user=actor).exists():
        # Outside the transaction below: the record of the look-up stays when it refuses.
        _profile_identity_check(actor=actor, data=data)
    with transaction.atomic():
        profile = ManagerProfile.objects.select_for_update().filter(user=actor).first()
        editable = ("phone", "education", "title", "skill_level", "certificate_number")
        if profile is None:
            id_number = normalize_id_number(data["id_number"])
            validate_id_number(id_number)
            digest = id_number_hash(id_number)
            if ManagerProfile.objects.filter(id_number_hash=digest).exists():
                raise DomainError(CANNOT_REGISTER_ONLINE, code="duplicate_id")
            profile = ManagerProfile(
                user=actor,
                real_name=data["real_name"].strip(),
                id_number=id_number,
                id_number_hash=digest,
                **{f: data[f] for f in editable if f in data},
            )
            profile.completed_at = timezone.now()
            try:
                with transaction.atomic():
                    profile.save()
            except IntegrityError as exc:
                raise DomainError(CANNOT_REGISTER_ONLINE, code="duplicate_id") from exc
        else:
            old_phone = profile.phone
            for field in editable:
                if field in data:
                    setattr(profile, field, data[field])
            if profile.phone != old_phone:
                # A verification proves one number: a new number is verified again.
                profile.phone_verified_at = None
                PhoneCode.objects.filter(profile=profile).delete()
            profile.save(update_fields=[*editable, "phone_verified_at", "updated_at"])
    return profile


#: The sign-up's answer to an ID number it cannot take (see `_profile_identity_check`).
CANNOT_REGISTER_ONLINE = _(
    "This ID number cannot be registered online. If it is your own, take your ID card to your "
    "housing bureau; they will check it and set up your registration."
)


def _profile_identity_check(*, actor: User, data: dict) -> None:
    """The sign-up's look-up of the ID number: counted, limited and recorded like any other.

    Why the answer to a taken ID number is "cannot be registered online, see the bureau" and not
    "already registered": a sign-up that succeeds for every free number must refuse a taken one,
    so refusal itself cannot be made silent without letting two people share a number. What we
    can do is make the answer worth little to a prober and useless at scale:

    - the words do not say that the number is registered (nor by whom, nor under which name);
      they send the person to the bureau, which is the only place the real holder can be helped
      anyway (the name and number are fixed once registered);
    - each account gets IDENTITY_LOOKUP_LIMIT tries per period (refused when Redis is down), and
      a free number ends the game for that account: it is bound to it for good, so every "free"
      answer costs the prober a new verified account;
    - every try is recorded (`IdentityLookup`, kind "profile", with the holder when the number is
      taken), so the bureau of the real holder sees who tried to register the number.
    """
    id_number = normalize_id_number(data.get("id_number", ""))
    validate_id_number(id_number)
    identity.lookup_allow(actor=actor, kind=identity.Kind.PROFILE)
    digest = id_number_hash(id_number)
    holder = (
        ManagerProfile.objects.select_related("jurisdiction").filter(id_number_hash=digest).first()
    )
    identity.lookup_record(
        actor=actor,
        kind=identity.Kind.PROFILE,
        id_number=id_number,
        digest=digest,
        name=data.get("real_name", ""),
        holder=holder,
        matched=holder is not None,
    )
    if holder is not None:
        raise DomainError(CANNOT_REGISTER_ONLINE, code="duplicate_id")


# --- employment ----------------------------------------------------------------------------------


def _lock_manager(manager_id: int) -> ManagerProfile:
    return ManagerProfile.objects.select_for_update().get(pk=manager_id)


def employment_request(*, actor: User, credit_code: str, position: str = "") -> Employment:
    """A manager asks to be recorded as employed by the firm with this credit code."""
    _require_manager(actor)
    profile = roles_of(actor).manager_profile
    if profile is None:
        raise DomainError(_("Complete your profile first."), code="no_profile")
    firm = Firm.objects.filter(credit_code=normalize_credit_code(credit_code)).first()
    if firm is None:
        raise DomainError(
            _("No firm with this unified social credit code is registered in the portal."),
            code="unknown_firm",
        )
    return _employment_propose(
        manager=profile,
        firm=firm,
        actor=actor,
        status=Employment.Status.REQUESTED,
        position=position,
    )


#: The one answer to an offer whose name and ID number do not both match a registered manager.
UNKNOWN_MANAGER = _(
    "No registered manager has this name and ID number. Check both against the ID card, or ask "
    "the manager to sign up and complete the profile first."
)


def employment_offer(
    *,
    actor: User,
    id_number: str,
    real_name: str,
    position: str = "",
    start_date: dt.date | None = None,
) -> Employment:
    """A firm's staff propose that the manager with this name and ID number works for the firm.

    The firm must know both: an unknown number and a known number with another name get the
    same answer, so that the offer never tells a firm who holds an ID number. Each try is
    counted against the account's limit and recorded for the bureau."""
    roles = roles_of(actor)
    if roles.role != Role.FIRM:
        raise PermissionDenied
    id_number = normalize_id_number(id_number)
    validate_id_number(id_number)
    identity.lookup_allow(actor=actor, kind=identity.Kind.FIRM_OFFER)
    digest = id_number_hash(id_number)
    holder = ManagerProfile.objects.filter(id_number_hash=digest).first()
    matched = holder is not None and identity.names_match(real_name, holder.real_name)
    identity.lookup_record(
        actor=actor,
        kind=identity.Kind.FIRM_OFFER,
        id_number=id_number,
        digest=digest,
        name=real_name,
        holder=holder,
        matched=matched,
        jurisdiction=roles.firm.jurisdiction,
    )
    if not matched:
        raise DomainError(UNKNOWN_MANAGER, code="unknown_manager")
    manager = holder
    return _employment_propose(
        manager=manager,
        firm=roles.firm,
        actor=actor,
        status=Employment.Status.OFFERED,
        position=position,
        start_date=start_date,
    )


def _employment_propose(
    *, manager, firm, actor, status, position="", start_date=None
) -> Employment:
    with transaction.atomic():
        _lock_manager(manager.pk)
        current = Employment.objects.filter(
            manager=manager, status=Employment.Status.ACTIVE
        ).first()
        if current and current.firm_id == firm.pk:
            raise DomainError(
                _("This manager is already recorded as employed by %(firm)s.")
                % {"firm": firm.name},
                code="already_employed",
            )
        pending = Employment.objects.filter(
            manager=manager, firm=firm, status__in=Employment.PENDING
        ).first()
        if pending:
            # Repeating a request, or answering the other side's pending proposal, is harmless.
            return pending
        return Employment.objects.create(
            manager=manager,
            firm=firm,
            status=status,
            position=position,
            start_date=start_date,
            requested_by=actor,
        )


def _lock_employment(employment: Employment) -> Employment:
    _lock_manager(employment.manager_id)
    return (
        Employment.objects.select_for_update()
        .select_related("firm", "manager")
        .get(pk=employment.pk)
    )


def employment_confirm(*, employment: Employment, actor: User) -> Employment:
    with transaction.atomic():
        emp = _lock_employment(employment)
        if emp.status == Employment.Status.ACTIVE:
            return emp  # a double click
        if emp.status not in Employment.PENDING:
            raise DomainError(
                _("This request is no longer open (it is now: %(status)s).")
                % {"status": emp.get_status_display()},
                code="not_pending",
            )
        if not can_answer_employment(user=actor, employment=emp):
            raise PermissionDenied
        current = (
            Employment.objects.filter(manager_id=emp.manager_id, status=Employment.Status.ACTIVE)
            .select_related("firm")
            .first()
        )
        if current:
            raise DomainError(
                _(
                    "%(manager)s is still recorded as employed by %(firm)s. That employment must "
                    "be ended first."
                )
                % {"manager": emp.manager.real_name, "firm": current.firm.name},
                code="has_current_firm",
            )
        emp.status = Employment.Status.ACTIVE
        emp.decided_by = actor
        emp.decided_at = timezone.now()
        emp.start_date = emp.start_date or timezone.localdate()
        emp.save(update_fields=["status", "decided_by", "decided_at", "start_date"])
        # save(), not update(): the change of jurisdiction belongs in the profile's history.
        manager = ManagerProfile.objects.select_related("user").get(pk=emp.manager_id)
        manager.jurisdiction = emp.firm.jurisdiction
        manager.save(update_fields=["jurisdiction", "updated_at"])
        registration_advance(manager=manager, actor=actor)
    return emp


def _employment_close(*, employment: Employment, actor: User, status: str, allowed) -> Employment:
    """End a pending proposal as `status` (declined or cancelled), if `allowed(user=actor,
    employment=…)`. Repeating it is harmless."""
    with transaction.atomic():
        emp = _lock_employment(employment)
        if emp.status == status:
            return emp
        if emp.status not in Employment.PENDING:
            raise DomainError(_("This request is no longer open."), code="not_pending")
        if not allowed(user=actor, employment=emp):
            raise PermissionDenied
        emp.status = status
        emp.decided_by = actor
        emp.decided_at = timezone.now()
        emp.save(update_fields=["status", "decided_by", "decided_at"])
    return emp


def employment_decline(*, employment: Employment, actor: User) -> Employment:
    """The side that did not propose declines."""
    return _employment_close(
        employment=employment,
        actor=actor,
        status=Employment.Status.DECLINED,
        allowed=can_answer_employment,
    )


def employment_cancel(*, employment: Employment, actor: User) -> Employment:
    """The side that proposed withdraws its pending proposal."""
    return _employment_close(
        employment=employment,
        actor=actor,
        status=Employment.Status.CANCELLED,
        allowed=can_cancel_employment,
    )


def employment_end(
    *, employment: Employment, actor: User, end_date: dt.date | None = None
) -> Employment:
    """Either side ends a current employment. History is kept."""
    end_date = end_date or timezone.localdate()
    with transaction.atomic():
        emp = _lock_employment(employment)
        if emp.status == Employment.Status.ENDED:
            return emp
        if emp.status != Employment.Status.ACTIVE:
            raise DomainError(_("Only a current employment can be ended."), code="not_active")
        if not can_end_employment(user=actor, employment=emp):
            raise PermissionDenied
        if emp.start_date and end_date < emp.start_date:
            raise DomainError(
                _("The end date cannot be before the start date (%(start)s).")
                % {"start": emp.start_date},
                code="end_before_start",
            )
        if end_date > timezone.localdate():
            raise DomainError(_("The end date cannot be in the future."), code="end_in_future")
        emp.status = Employment.Status.ENDED
        emp.end_date = end_date
        emp.ended_by = actor
        emp.save(update_fields=["status", "end_date", "ended_by"])
    return emp


# --- registration (执业登记) ----------------------------------------------------------------------
#
# awaiting_firm --firm confirms the employment--> registered (number issued)
#                                            \--> awaiting_bureau, where the bureau requires it
# awaiting_bureau --bureau approves--> registered; --bureau refuses (reason)--> refused
# refused --manager asks again--> awaiting_bureau (or awaiting_firm without a current firm)
# registered --bureau cancels (reason)--> cancelled (注销: the number stays his, never reused)

RegistrationHook = Callable[..., None]
_registration_hooks: list[RegistrationHook] = []


def registration_hook_register(hook: RegistrationHook) -> None:
    """`hook(event=RegistrationEvent)` is called in the transaction of every registration step:
    the registry hands over at start-up the function that writes the notices (notices live
    above this app)."""
    if hook not in _registration_hooks:
        _registration_hooks.append(hook)


def registration_review_required(*, jurisdiction: Jurisdiction | None) -> bool:
    """Whether a bureau official must approve a registration in `jurisdiction`: the nearest
    `RegistrationRule` up the chain; none: no (the firm's confirmation is enough). One query."""
    if jurisdiction is None:
        return False
    rule = nearest_in(RegistrationRule.objects.all(), path=jurisdiction.path).first()
    return bool(rule and rule.bureau_review)


def _registration_record(
    *, manager: ManagerProfile, action: str, actor: User, reason: str = ""
) -> RegistrationEvent:
    event = RegistrationEvent.objects.create(
        manager=manager, action=action, actor=actor, reason=reason
    )
    for hook in _registration_hooks:
        hook(event=event)
    return event


_REGISTRATION_FIELDS = [
    "registration_number",
    "registration_status",
    "registered_at",
    "cancelled_at",
    "registration_reason",
    "updated_at",
]


def _registration_issue(manager: ManagerProfile, *, actor: User) -> None:
    """Issue the number (a manager registered before keeps his) of a locked profile."""
    manager.registration_number = manager.registration_number or registration_number_next()
    manager.registration_status = RegistrationStatus.REGISTERED
    manager.registered_at = timezone.now()
    manager.cancelled_at = None
    manager.registration_reason = ""
    manager._change_reason = RegistrationEvent.Action.ISSUED  # noqa: SLF001 (simple-history)
    manager.save(update_fields=_REGISTRATION_FIELDS)
    _registration_record(manager=manager, action=RegistrationEvent.Action.ISSUED, actor=actor)


def registration_advance(*, manager: ManagerProfile, actor: User) -> None:
    """After the firm's confirmation of the employment (`employment_confirm`, the profile
    locked): a manager awaiting it gets his number, or goes to the bureau's review where the
    jurisdiction requires that. Anyone else is left as he is (registered, refused, cancelled)."""
    if manager.registration_status != RegistrationStatus.AWAITING_FIRM:
        return
    if registration_review_required(jurisdiction=manager.jurisdiction):
        manager.registration_status = RegistrationStatus.AWAITING_BUREAU
        manager.save(update_fields=["registration_status", "updated_at"])
        _registration_record(
            manager=manager, action=RegistrationEvent.Action.TO_BUREAU, actor=actor
        )
    else:
        _registration_issue(manager, actor=actor)


def _bureau_lock_manager(actor: User, manager: ManagerProfile) -> ManagerProfile:
    """The manager's row locked, if `actor` is bureau staff (or an administrator) whose
    jurisdiction covers him; PermissionDenied otherwise."""
    if not (actor.is_superuser or roles_of(actor).role == Role.BUREAU):
        raise PermissionDenied
    locked = (
        manager_list_for(user=actor).select_for_update(of=("self",)).filter(pk=manager.pk).first()
    )
    if locked is None:
        raise PermissionDenied
    return locked


def _registration_state_error(manager: ManagerProfile) -> DomainError:
    return DomainError(
        _("This registration is now “%(status)s”. Nothing was changed.")
        % {"status": manager.get_registration_status_display()},
        code="state",
    )


def _required_reason(reason: str, message) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError({"reason": [message]}, code="reason")
    return reason


def registration_approve(*, actor: User, manager: ManagerProfile) -> ManagerProfile:
    """A bureau official approves a registration awaiting review: the number is issued. The
    manager must still be employed (the firm's confirmation is what was reviewed)."""
    with transaction.atomic():
        locked = _bureau_lock_manager(actor, manager)
        if locked.registration_status == RegistrationStatus.REGISTERED:
            return locked  # a double click, or a colleague was quicker
        if locked.registration_status != RegistrationStatus.AWAITING_BUREAU:
            raise _registration_state_error(locked)
        if current_employment(manager=locked) is None:
            raise DomainError(
                _(
                    "%(name)s has no confirmed current employment any more; the registration "
                    "cannot be approved."
                )
                % {"name": locked.real_name},
                code="no_employment",
            )
        _registration_issue(locked, actor=actor)
    return locked


def registration_refuse(*, actor: User, manager: ManagerProfile, reason: str) -> ManagerProfile:
    """A bureau official refuses a registration awaiting review, with the reason the manager
    reads; he can correct his profile and ask again."""
    reason = _required_reason(reason, _("Give the reason; the manager will see it."))
    with transaction.atomic():
        locked = _bureau_lock_manager(actor, manager)
        if locked.registration_status == RegistrationStatus.REFUSED:
            return locked
        if locked.registration_status != RegistrationStatus.AWAITING_BUREAU:
            raise _registration_state_error(locked)
        locked.registration_status = RegistrationStatus.REFUSED
        locked.registration_reason = reason
        locked.save(update_fields=["registration_status", "registration_reason", "updated_at"])
        _registration_record(
            manager=locked, action=RegistrationEvent.Action.REFUSED, actor=actor, reason=reason
        )
    return locked


def registration_resubmit(*, actor: User) -> ManagerProfile:
    """The manager asks again after a refusal: back to the bureau (or, without a current firm,
    to waiting for one; where no review is required any more, the number is issued)."""
    _require_manager(actor)
    with transaction.atomic():
        manager = ManagerProfile.objects.select_for_update().get(user=actor)
        if manager.registration_status != RegistrationStatus.REFUSED:
            return manager  # nothing to ask again (a double click)
        if current_employment(manager=manager) is None:
            manager.registration_status = RegistrationStatus.AWAITING_FIRM
            manager.save(update_fields=["registration_status", "updated_at"])
        elif registration_review_required(jurisdiction=manager.jurisdiction):
            manager.registration_status = RegistrationStatus.AWAITING_BUREAU
            manager.save(update_fields=["registration_status", "updated_at"])
            _registration_record(
                manager=manager, action=RegistrationEvent.Action.RESUBMITTED, actor=actor
            )
        else:
            _registration_issue(manager, actor=actor)
    return manager


def registration_cancel(*, actor: User, manager: ManagerProfile, reason: str) -> ManagerProfile:
    """A bureau official cancels (注销) a registration, with the reason: the public lookup says
    so with the date, his certificates no longer verify, he is no longer judged or reminded.
    The number stays his (never reused)."""
    reason = _required_reason(reason, _("Give the reason for the cancellation."))
    with transaction.atomic():
        locked = _bureau_lock_manager(actor, manager)
        if locked.registration_status == RegistrationStatus.CANCELLED:
            return locked
        if locked.registration_status != RegistrationStatus.REGISTERED:
            raise _registration_state_error(locked)
        locked.registration_status = RegistrationStatus.CANCELLED
        locked.cancelled_at = timezone.now()
        locked.registration_reason = reason
        locked._change_reason = RegistrationEvent.Action.CANCELLED  # noqa: SLF001
        locked.save(update_fields=_REGISTRATION_FIELDS)
        _registration_record(
            manager=locked, action=RegistrationEvent.Action.CANCELLED, actor=actor, reason=reason
        )
    return locked


def registration_rule_save(
    *, actor: User, jurisdiction: Jurisdiction, bureau_review: bool
) -> RegistrationRule:
    """Bureau staff set whether their jurisdiction (or one below it) requires their approval
    of new registrations."""
    if not (actor.is_superuser or roles_of(actor).role == Role.BUREAU):
        raise PermissionDenied
    if not jurisdiction_list_for(user=actor).filter(pk=jurisdiction.pk).exists():
        raise PermissionDenied
    with transaction.atomic():
        rule, _created = RegistrationRule.objects.update_or_create(
            jurisdiction=jurisdiction,
            defaults={"bureau_review": bureau_review, "updated_by": actor},
        )
    return rule


# --- search by ID number -------------------------------------------------------------------------


def manager_find_by_id_number(
    *, actor: User, kind: str, id_number: str, within: QuerySet[ManagerProfile]
) -> ManagerProfile | None:
    """The manager with this ID number among `within` (a scoped selector's queryset: the firm's
    current managers, the official's jurisdiction), or None. Counted against the account's limit
    and recorded like every look-up by ID number. The number comes from a POST form, never from
    the address."""
    id_number = normalize_id_number(id_number)
    validate_id_number(id_number)
    identity.lookup_allow(actor=actor, kind=kind)
    digest = id_number_hash(id_number)
    found = within.filter(id_number_hash=digest).first()
    identity.lookup_record(
        actor=actor,
        kind=kind,
        id_number=id_number,
        digest=digest,
        holder=found,
        matched=found is not None,
    )
    return found


# --- firm reviewers ------------------------------------------------------------------------------


def _require_firm_admin(actor: User) -> Firm:
    roles = roles_of(actor)
    if not roles.is_firm_admin:
        raise PermissionDenied
    return roles.firm


def firm_invitation_create(*, actor: User, email: str, role: str) -> FirmInvitation:
    """A firm administrator invites someone to become one of the firm's reviewers; the e-mail is
    sent after commit."""

    firm = _require_firm_admin(actor)
    email = email.strip().lower()
    if FirmMembership.objects.filter(user__email__iexact=email, firm=firm).exists():
        raise DomainError(_("This person is already one of the firm's reviewers."), code="member")
    with transaction.atomic():
        existing = FirmInvitation.objects.filter(
            firm=firm, email=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).first()
        if existing:
            invitation = existing
        else:
            invitation = FirmInvitation.objects.create(
                firm=firm, email=email, role=role, token=secrets.token_urlsafe(32), invited_by=actor
            )
        transaction.on_commit(lambda: publish("accounts.send_firm_invitation", [invitation.pk]))
    return invitation


def firm_invitation_revoke(*, actor: User, invitation: FirmInvitation) -> None:
    firm = _require_firm_admin(actor)
    if invitation.firm_id != firm.pk:
        raise PermissionDenied
    FirmInvitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def firm_invitation_accept(*, actor: User, token: str) -> FirmMembership:
    with transaction.atomic():
        invitation = (
            FirmInvitation.objects.select_for_update()
            .select_related("firm")
            .filter(token=token)
            .first()
        )
        if invitation is None or invitation.revoked_at:
            raise DomainError(_("This invitation is not valid (any more)."), code="invalid")
        if invitation.email.lower() != actor.email.lower():
            raise DomainError(
                _("This invitation was sent to another e-mail address. Log in with that address."),
                code="wrong_user",
            )
        existing = FirmMembership.objects.filter(user=actor).first()
        if invitation.accepted_at:
            if existing and existing.firm_id == invitation.firm_id:
                return existing
            raise DomainError(_("This invitation has already been used."), code="used")
        if existing:
            raise DomainError(
                _("You are already a reviewer of %(firm)s.") % {"firm": existing.firm.name},
                code="member_elsewhere",
            )
        if ManagerProfile.objects.filter(user=actor).exists() or roles_of(actor).role in (
            Role.BUREAU,
            Role.PROVIDER,
        ):
            raise DomainError(
                _(
                    "This account already has another role. Accept the invitation with a separate "
                    "account."
                ),
                code="other_role",
            )
        membership = FirmMembership.objects.create(
            user=actor, firm=invitation.firm, role=invitation.role
        )
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
    return membership


def firm_member_remove(*, actor: User, membership: FirmMembership) -> None:
    firm = _require_firm_admin(actor)
    with transaction.atomic():
        members = list(FirmMembership.objects.select_for_update().filter(firm=firm))
        target = next((m for m in members if m.pk == membership.pk), None)
        if target is None:
            raise PermissionDenied
        admins = [m for m in members if m.role == FirmMembership.Role.ADMIN]
        if target.role == FirmMembership.Role.ADMIN and len(admins) == 1:
            raise DomainError(
                _("The firm's last administrator cannot be removed."), code="last_admin"
            )
        target.delete()


def firm_membership_check(*, user: User) -> None:
    """Refuse to make `user` a firm reviewer when the account is a manager's (he could then
    approve his own filing) or has another role (bureau staff, a training provider)."""
    if ManagerProfile.objects.filter(user=user).exists() or roles_of(user).role in (
        Role.BUREAU,
        Role.PROVIDER,
    ):
        raise DomainError(
            _(
                "This account belongs to a property manager or already has another role. Firm "
                "reviewers need an account of their own: nobody may review his own filing."
            ),
            code="other_role",
        )


def firm_membership_grant(
    *, actor: User, user: User, firm: Firm, role: str = FirmMembership.Role.REVIEWER
) -> FirmMembership:
    """An administrator makes `user` a reviewer (or the administrator) of `firm`; a user
    already with a firm is moved. Never a manager: see `firm_membership_check`."""
    if not actor.is_superuser:
        raise PermissionDenied
    firm_membership_check(user=user)
    with transaction.atomic():
        membership, _created = FirmMembership.objects.update_or_create(
            user=user, defaults={"firm": firm, "role": role}
        )
    return membership


# --- bureau staff --------------------------------------------------------------------------------

BUREAU_GROUP = "住建主管部门工作人员"
#: What bureau staff may do in the admin; the querysets limit it to their jurisdiction.
BUREAU_PERMISSIONS = [
    "accounts.view_jurisdiction",
    "accounts.view_managerprofile",
    "accounts.change_managerprofile",
    "accounts.view_firm",
    "accounts.add_firm",
    "accounts.change_firm",
    "accounts.view_employment",
    "accounts.view_identitylookup",
    "accounts.view_pendingregistration",
    "accounts.change_pendingregistration",
    "accounts.view_registrationrule",
    "accounts.add_registrationrule",
    "accounts.change_registrationrule",
    "training.view_provider",
    "training.add_provider",
    "training.change_provider",
    "training.view_course",
    "training.add_course",
    "training.change_course",
    "training.view_studyrecord",
    "training.change_studyrecord",
    "training.view_hoursrule",
    "training.add_hoursrule",
    "training.change_hoursrule",
    "training.view_providerreport",
    "training.view_auditpolicy",
    "training.add_auditpolicy",
    "training.change_auditpolicy",
    "training.view_auditdraw",
    "training.view_audititem",
    "registry.view_annualfiling",
    "registry.change_annualfiling",
    "registry.view_filingwindow",
    "registry.add_filingwindow",
    "registry.change_filingwindow",
    "registry.view_filingextension",
    "registry.add_filingextension",
    "registry.change_filingextension",
    "notifications.view_notice",
    "registry.view_conductrecord",
    "registry.add_conductrecord",
    "registry.change_conductrecord",
    "registry.view_registrystatus",
    "registry.view_creditentry",
]


def bureau_group_refresh(sender, **kwargs) -> None:
    """After every migrate: keep the bureau staff group's permissions in step with
    BUREAU_PERMISSIONS (new models bring new permissions; they exist only once migrate ran)."""
    bureau_group_ensure()


def bureau_group_ensure():
    from django.contrib.auth.models import Group, Permission

    group, _created = Group.objects.get_or_create(name=BUREAU_GROUP)
    wanted = []
    for dotted in BUREAU_PERMISSIONS:
        app_label, codename = dotted.split(".")
        wanted.append((app_label, codename))
    from django.db.models import Q as _Q

    cond = _Q(pk__in=[])
    for app_label, codename in wanted:
        cond |= _Q(content_type__app_label=app_label, codename=codename)
    group.permissions.set(Permission.objects.filter(cond))
    return group


def bureau_membership_grant(
    *, actor: User, user: User, jurisdiction, title: str = ""
) -> BureauMembership:
    """Make `user` an official of `jurisdiction`: membership row, admin access, the bureau group.
    Only an administrator does this."""
    if not actor.is_superuser:
        raise PermissionDenied
    if (
        roles_of(user).role in (Role.FIRM, Role.PROVIDER)
        or ManagerProfile.objects.filter(user=user).exists()
    ):
        raise DomainError(_("This account already has another role."), code="other_role")
    with transaction.atomic():
        membership, _created = BureauMembership.objects.update_or_create(
            user=user, defaults={"jurisdiction": jurisdiction, "title": title}
        )
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        user.groups.add(bureau_group_ensure())
    return membership


# --- staff invitations ---------------------------------------------------------------------------

#: The one answer for every link that cannot be used: unknown, expired, used or replaced.
STAFF_INVITATION_INVALID = _(
    "This invitation link is not valid: it may have expired, been used already or been replaced "
    "by a newer one. Ask the person who invited you to send a new link."
)


def staff_invitation_check(*, actor: User, email: str, jurisdiction: Jurisdiction) -> str:
    """Whether `actor` may invite `email` as bureau staff of `jurisdiction`: raises
    PermissionDenied (outside the actor's reach) or DomainError; returns the address as stored."""
    if not staff_invitation_jurisdictions_for(user=actor).filter(pk=jurisdiction.pk).exists():
        raise PermissionDenied
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise DomainError(
            _(
                "An account with this e-mail address already exists. An administrator can make "
                "it bureau staff in the list of bureau staff instead."
            ),
            code="account_exists",
        )
    return email


def staff_invitation_create(
    *, actor: User, email: str, jurisdiction: Jurisdiction
) -> StaffInvitation:
    """Invite a new bureau official of `jurisdiction`: the e-mail with a one-time link (valid
    for StaffInvitation.VALID_FOR_HOURS) goes out after commit. Inviting an address again that
    has an open invitation renews that invitation and sends a new link; the old link stops
    working."""
    email = staff_invitation_check(actor=actor, email=email, jurisdiction=jurisdiction)
    expires_at = timezone.now() + dt.timedelta(hours=StaffInvitation.VALID_FOR_HOURS)
    with transaction.atomic():
        invitation = (
            StaffInvitation.objects.select_for_update()
            .filter(email=email, used_at__isnull=True)
            .first()
        )
        if invitation is None:
            invitation = StaffInvitation.objects.create(
                email=email, jurisdiction=jurisdiction, invited_by=actor, expires_at=expires_at
            )
        else:
            invitation.jurisdiction = jurisdiction
            invitation.invited_by = actor
            invitation.expires_at = expires_at
            invitation.token_hash = None  # the earlier link is dead from now on
            invitation.save(
                update_fields=["jurisdiction", "invited_by", "expires_at", "token_hash"]
            )
        pk = invitation.pk
        transaction.on_commit(lambda: publish("accounts.send_staff_invitation", [pk]))
    return invitation


def staff_invitation_accept(*, token: str, password: str) -> User:
    """The invited person sets the password: the account is created as bureau staff of the
    invitation's jurisdiction (its e-mail address counts as verified: the link came to it) and
    the link is used up. Logging in and the authenticator set-up follow in the view."""
    with transaction.atomic():
        invitation = (
            StaffInvitation.objects.select_for_update()
            .select_related("jurisdiction")
            .filter(
                token_hash=StaffInvitation.hash_token(token),
                used_at__isnull=True,
                expires_at__gt=timezone.now(),
            )
            .first()
        )
        if invitation is None:
            raise DomainError(STAFF_INVITATION_INVALID, code="invalid")
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise DomainError(
                _("An account with this e-mail address already exists. Log in with it."),
                code="account_exists",
            )
        user = User(
            email=invitation.email,
            is_staff=True,
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )
        password_validation.validate_password(password, user)
        user.set_password(password)
        user.save()
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        BureauMembership.objects.create(user=user, jurisdiction=invitation.jurisdiction)
        user.groups.add(bureau_group_ensure())
        invitation.used_at = timezone.now()
        invitation.user = user
        invitation.save(update_fields=["used_at", "user"])
    return user


# --- jurisdictions ---------------------------------------------------------------------------


def jurisdiction_save(*, actor: User, jurisdiction: Jurisdiction) -> Jurisdiction:
    """Create or change a jurisdiction (administrators only). Its `path` (the chain of codes
    from the province down, on which every scope rests) follows its parent and code; when it
    changes, every jurisdiction below it gets the new prefix in the same transaction."""
    if not actor.is_superuser:
        raise PermissionDenied
    if jurisdiction.parent_id == jurisdiction.pk and jurisdiction.pk is not None:
        raise DomainError(_("A jurisdiction cannot be its own parent."), code="parent")
    with transaction.atomic():
        parent = (
            Jurisdiction.objects.select_for_update().get(pk=jurisdiction.parent_id)
            if jurisdiction.parent_id
            else None
        )
        new_path = (parent.path if parent else "") + jurisdiction.code + "/"
        old_path = (
            Jurisdiction.objects.filter(pk=jurisdiction.pk).values_list("path", flat=True).first()
            if jurisdiction.pk
            else None
        )
        if old_path and new_path.startswith(old_path):
            raise DomainError(
                _("A jurisdiction cannot be moved under one of its own subdivisions."),
                code="parent",
            )
        jurisdiction.path = new_path
        jurisdiction.save()
        if old_path and old_path != new_path:
            Jurisdiction.objects.filter(path__startswith=old_path).exclude(
                pk=jurisdiction.pk
            ).update(path=Concat(Value(new_path), Substr("path", len(old_path) + 1)))
    return jurisdiction


# --- phone verification and text messages ---------------------------------------------------

#: A code is valid this long, for this many wrong entries.
PHONE_CODE_VALID = dt.timedelta(minutes=10)
PHONE_CODE_TRIES = 5
#: Codes sent per account: at most 5 an hour (each one is a text message we pay for).
PHONE_CODE_LIMIT = Limit("phone-code", 5, 3600, fail_open=False)

PHONE_CODE_TEXT = _(
    "Your verification code is %(code)s. It is valid for 10 minutes. Do not share it with anyone."
)
PHONE_CODE_WRONG = _("The code is not right. Check the text message and try again.")
PHONE_CODE_EXPIRED = _("The code has expired or was tried too often. Ask for a new code.")


def _phone_code_hash(code: str, phone: str) -> str:
    return salted_hmac("accounts.phone_code", f"{phone}:{code}", algorithm="sha256").hexdigest()


def phone_code_send(*, actor: User) -> PhoneCode:
    """Send a 6-digit code by SMS to the actor's phone; it replaces any earlier code. Only its
    keyed hash is stored. Refused when SMS is off, the phone is verified already, or the actor
    asked for too many codes (`PHONE_CODE_LIMIT`)."""
    _require_manager(actor)
    profile = ManagerProfile.objects.get(user=actor)
    if not sms_enabled():
        raise DomainError(_("Text messages are not available."), code="sms_off")
    if profile.phone_verified_at is not None:
        raise DomainError(_("Your phone number is verified already."), code="verified")
    if not hit(PHONE_CODE_LIMIT, str(actor.pk)):
        raise DomainError(
            _("Too many codes were requested. Try again in an hour."), code="rate_limited"
        )
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        phone_code, _created = PhoneCode.objects.update_or_create(
            profile=profile,
            defaults={
                "phone": profile.phone,
                "code_hash": _phone_code_hash(code, profile.phone),
                "sent_at": timezone.now(),
                "tries": 0,
            },
        )
    with translation.override(actor.language or settings.LANGUAGE_CODE):
        text = str(PHONE_CODE_TEXT) % {"code": code}
    try:
        sms_send(profile.phone, text)
    except SmsError as exc:
        PhoneCode.objects.filter(pk=phone_code.pk).delete()
        raise DomainError(
            _("The text message could not be sent. Try again later."), code="sms_failed"
        ) from exc
    return phone_code


def phone_code_check(*, actor: User, code: str) -> ManagerProfile:
    """Check the code the actor entered; right: the phone is verified and the code used up.
    Wrong: one try counted; after `PHONE_CODE_TRIES` wrong tries or `PHONE_CODE_VALID` the
    code is void and a new one must be sent."""
    _require_manager(actor)
    with transaction.atomic():
        profile = ManagerProfile.objects.select_for_update().get(user=actor)
        phone_code = PhoneCode.objects.select_for_update().filter(profile=profile).first()
        if (
            phone_code is None
            or phone_code.phone != profile.phone
            or phone_code.tries >= PHONE_CODE_TRIES
            or timezone.now() - phone_code.sent_at > PHONE_CODE_VALID
        ):
            raise DomainError(PHONE_CODE_EXPIRED, code="expired")
        if not hmac.compare_digest(
            phone_code.code_hash, _phone_code_hash(code.strip(), profile.phone)
        ):
            phone_code.tries += 1
            phone_code.save(update_fields=["tries"])
            wrong = True
        else:
            wrong = False
            profile.phone_verified_at = timezone.now()
            profile.save(update_fields=["phone_verified_at", "updated_at"])
            phone_code.delete()
    if wrong:  # outside the block: the counted try stays
        raise DomainError(PHONE_CODE_WRONG, code="wrong")
    return profile


def sms_opt_out_set(*, actor: User, opt_out: bool) -> ManagerProfile:
    """The actor stops (or resumes) text messages; notices already waiting are not texted."""
    _require_manager(actor)
    with transaction.atomic():
        profile = ManagerProfile.objects.select_for_update().get(user=actor)
        if profile.sms_opt_out != opt_out:
            profile.sms_opt_out = opt_out
            profile.save(update_fields=["sms_opt_out", "updated_at"])
    return profile
