"""Sampled audits of self-reported study records: the bureau's policy, the draw, the manager's
answer, the bureau's decision and the daily job that rejects what was not answered in time.

Under a policy in "audit" mode a self-reported record with a certificate counts at once
(`StudyRecord.Status.ACCEPTED`). A draw samples the accepted records of a jurisdiction and a
year: a percentage at random (seeded, the seed kept on the draw, so the same seed on the same
records draws the same sample) plus every record a risk rule hits. Each sampled manager is told
(a notice, and its e-mail) and answers with evidence before the deadline. An official upholds
the record (it becomes verified) or rejects it (it stops counting); a record not answered by
the deadline is rejected by the daily job (`audits_daily`, beat: `training.run_audits`).

A rejection stops the record counting even in a year whose filing was submitted
(`LockedStudyYear` freezes the manager's own edits, not the bureau's decisions): the hours and
the compliance are computed from the records, so every page reflects it at once, and the
registry, which registers a hook at start-up (`audit_rejection_hook_register`), decides that
year's registry status again when it was already given.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import ROUND_CEILING, Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import DecimalField, Exists, OuterRef, QuerySet, Subquery, Sum
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Jurisdiction, ManagerProfile, User
from accounts.roles import Role, roles_of
from core.errors import DomainError
from notifications.models import Notice
from notifications.services import NewNotice, notices_create

from . import selectors
from .models import AuditDraw, AuditItem, AuditPolicy, StudyRecord

Reason = AuditItem.Reason
_DEC = DecimalField(max_digits=8, decimal_places=1)
#: Serialises the draws (two draws at once would sample the same records).
_DRAW_LOCK = 0x617564_6974  # "audit"

#: The defaults of a jurisdiction without any policy up the chain.
DEFAULT_POLICY = AuditPolicy(
    mode=AuditPolicy.Mode.VERIFY,
    sample_percent=Decimal("10"),
    max_hours_per_day=Decimal("8"),
    answer_days=14,
    draw_every_days=0,
)


# --- the hook the registry registers ---------------------------------------------------------

RejectionHook = Callable[[list[tuple[ManagerProfile, int]], User | None], object]
_rejection_hooks: list[RejectionHook] = []


def audit_rejection_hook_register(hook: RejectionHook) -> None:
    """Called with the (manager, year) pairs whose records an audit rejected, and the actor
    (None: the deadline), in the transaction of the rejection: the registry decides those years'
    statuses again (it sits above this app, so it registers at start-up)."""
    if hook not in _rejection_hooks:
        _rejection_hooks.append(hook)


def _rejected(pairs: list[tuple[ManagerProfile, int]], actor: User | None) -> None:
    for hook in _rejection_hooks:
        hook(pairs, actor)


# --- policy ----------------------------------------------------------------------------------


def policy_for(jurisdiction: Jurisdiction | None) -> AuditPolicy:
    """The policy in force (inherited down the chain), or the defaults (wait for verification)."""
    return selectors.audit_policy_for(jurisdiction=jurisdiction) or DEFAULT_POLICY


def status_for_new_self_record(*, manager: ManagerProfile, has_certificate: bool) -> str:
    """A manager's own record: accepted at once under an audit policy (with a certificate),
    otherwise awaiting verification."""
    if has_certificate and policy_for(manager.jurisdiction).mode == AuditPolicy.Mode.AUDIT:
        return StudyRecord.Status.ACCEPTED
    return StudyRecord.Status.PENDING


def _bureau_reach(actor: User, jurisdiction: Jurisdiction) -> None:
    """Bureau staff of `jurisdiction` or above, or an administrator; otherwise PermissionDenied."""
    if actor.is_superuser:
        return
    roles = roles_of(actor)
    if roles.role != Role.BUREAU or not jurisdiction.path.startswith(roles.jurisdiction.path):
        raise PermissionDenied


def audit_policy_set(
    *,
    actor: User,
    jurisdiction: Jurisdiction,
    mode: str,
    sample_percent: Decimal,
    max_hours_per_day: Decimal,
    answer_days: int,
    draw_every_days: int = 0,
) -> AuditPolicy:
    """Set a jurisdiction's audit policy (bureau staff of it or above), recording who and when.
    Repeating it is harmless. Records already saved keep their status: the mode applies to
    records saved from now on."""
    _bureau_reach(actor, jurisdiction)
    if mode not in AuditPolicy.Mode.values:
        raise DomainError(_("Unknown mode."), code="mode")
    with transaction.atomic():
        policy = AuditPolicy.objects.select_for_update().filter(
            jurisdiction=jurisdiction
        ).first() or AuditPolicy(jurisdiction=jurisdiction)
        policy.mode = mode
        policy.sample_percent = sample_percent
        policy.max_hours_per_day = max_hours_per_day
        policy.answer_days = answer_days
        policy.draw_every_days = draw_every_days
        policy.changed_by = actor
        policy.changed_at = timezone.now()
        policy.full_clean(exclude=["jurisdiction"])
        policy.save()
    return policy


# --- the draw --------------------------------------------------------------------------------


def audit_population(*, jurisdiction: Jurisdiction, year: int) -> QuerySet[StudyRecord]:
    """Records a draw may sample: self-reported, accepted subject to audit, passed, completed
    in `year`, of managers of the jurisdiction and below, never audited before. Annotated
    with what the risk rules need: the manager's counted hours on that day (`day_hours`) and
    whether another manager has a certificate with the same content (`shared`)."""
    day_hours = (
        StudyRecord.objects.filter(
            selectors.counting_records(),
            manager=OuterRef("manager"),
            completed_on=OuterRef("completed_on"),
        )
        .order_by()
        .values("manager")
        .annotate(total=Sum("hours"))
        .values("total")
    )
    shared = StudyRecord.objects.filter(certificate_sha256=OuterRef("certificate_sha256")).exclude(
        manager=OuterRef("manager")
    )
    return (
        StudyRecord.objects.filter(
            manager__jurisdiction__path__startswith=jurisdiction.path,
            completed_on__year=year,
            source=StudyRecord.Source.SELF,
            status=StudyRecord.Status.ACCEPTED,
            assessment=StudyRecord.Assessment.PASSED,
            audit__isnull=True,
        )
        .annotate(
            day_hours=Subquery(day_hours, output_field=_DEC),
            shared=Exists(shared.exclude(certificate_sha256="")),
        )
        .order_by("pk")
    )


def risk_reasons(
    row: dict, *, year: int, max_hours_per_day: Decimal
) -> list[str]:  # a row of `audit_population().values(...)`
    """The risk rules a record hits (codes of `AuditItem.Reason`)."""
    reasons = []
    if row["day_hours"] is not None and row["day_hours"] > max_hours_per_day:
        reasons.append(Reason.DAY_HOURS)
    start = row["course__start_date"]
    if start is not None and start > dt.date(year, 12, 31):
        reasons.append(Reason.AFTER_YEAR)
    approved = row["course__provider__approved_from"]
    if approved is not None and row["completed_on"] < approved:
        reasons.append(Reason.BEFORE_APPROVAL)
    if row["shared"]:
        reasons.append(Reason.SHARED_CERTIFICATE)
    return reasons


def random_sample(ids: list[int], *, percent: Decimal, seed: int) -> set[int]:
    """`percent` of `ids` (rounded up), drawn with `seed`: the same ids, percentage and seed
    always give the same sample."""
    count = int((Decimal(len(ids)) * Decimal(percent) / 100).to_integral_value(ROUND_CEILING))
    return set(random.Random(seed).sample(sorted(ids), min(count, len(ids))))


def audit_draw(
    *,
    actor: User | None,
    jurisdiction: Jurisdiction,
    year: int,
    seed: int | None = None,
    percent: Decimal | None = None,
    today: dt.date | None = None,
    scheduled_on: dt.date | None = None,
) -> AuditDraw:
    """Draw an audit sample for a jurisdiction and year; `actor` None is the schedule (one
    scheduled draw per jurisdiction, year and day: running it again returns the first).

    Writes the draw, its items (why each record was chosen) and one notice per sampled manager,
    in one transaction; the e-mails go after the commit."""
    if actor is not None:
        _bureau_reach(actor, jurisdiction)
    today = today or timezone.localdate()
    policy = policy_for(jurisdiction)
    percent = policy.sample_percent if percent is None else Decimal(percent)
    if not (0 <= percent <= 100):
        raise DomainError(_("The sample is a percentage from 0 to 100."), code="percent")
    seed = secrets.randbelow(2**31) if seed is None else int(seed)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_DRAW_LOCK])
        if scheduled_on is not None:
            done = AuditDraw.objects.filter(
                jurisdiction=jurisdiction, year=year, scheduled_on=scheduled_on
            ).first()
            if done is not None:
                return done
        rows = list(
            audit_population(jurisdiction=jurisdiction, year=year).values(
                "pk",
                "manager_id",
                "manager__jurisdiction_id",
                "completed_on",
                "course__start_date",
                "course__provider__approved_from",
                "day_hours",
                "shared",
            )
        )
        drawn = random_sample([row["pk"] for row in rows], percent=percent, seed=seed)
        due_on = today + dt.timedelta(days=policy.answer_days)
        draw = AuditDraw.objects.create(
            jurisdiction=jurisdiction,
            year=year,
            trigger=AuditDraw.Trigger.MANUAL if actor else AuditDraw.Trigger.SCHEDULED,
            drawn_by=actor,
            drawn_at=timezone.now(),
            scheduled_on=scheduled_on,
            seed=seed,
            sample_percent=percent,
            max_hours_per_day=policy.max_hours_per_day,
            due_on=due_on,
            population_count=len(rows),
            random_count=len(drawn),
        )
        hits: Counter[str] = Counter()
        items = []
        for row in rows:
            reasons = risk_reasons(row, year=year, max_hours_per_day=policy.max_hours_per_day)
            hits.update(reasons)
            if row["pk"] in drawn:
                reasons.insert(0, Reason.RANDOM)
            if reasons:
                items.append(
                    AuditItem(
                        draw=draw,
                        record_id=row["pk"],
                        manager_id=row["manager_id"],
                        jurisdiction_id=row["manager__jurisdiction_id"],
                        reasons=[str(reason) for reason in reasons],
                        due_on=due_on,
                    )
                )
        AuditItem.objects.bulk_create(items, batch_size=1000)
        draw.rule_hits = {str(rule): hits[rule] for rule in Reason.values if rule != Reason.RANDOM}
        draw.sampled_count = len(items)
        draw.save(update_fields=["rule_hits", "sampled_count"])
        _notify_sampled(draw, items)
    return draw


def _notify_sampled(draw: AuditDraw, items: list[AuditItem]) -> None:
    per_manager = Counter(item.manager_id for item in items)
    users = dict(ManagerProfile.objects.filter(pk__in=per_manager).values_list("pk", "user_id"))
    link = reverse("training:study_hours") + f"?year={draw.year}"
    notices_create(
        NewNotice(
            recipient_id=users[manager_id],
            kind=Notice.Kind.AUDIT_REQUESTED,
            link=link,
            params={"year": draw.year, "count": count, "due_on": draw.due_on.isoformat()},
            year=draw.year,
            milestone=f"audit-draw-{draw.pk}",
        )
        for manager_id, count in per_manager.items()
    )


# --- the manager's answer --------------------------------------------------------------------


def audit_answer(
    *, actor: User, item: AuditItem, answer: str, evidence=None, today: dt.date | None = None
) -> AuditItem:
    """The sampled manager gives his evidence (a file, checked like every upload, and a note)
    before the deadline. He may replace it until the bureau decides or the deadline passes."""
    roles = roles_of(actor)
    if roles.role != Role.MANAGER or roles.manager_profile is None:
        raise PermissionDenied
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = (
            AuditItem.objects.select_for_update()
            .select_related("record")
            .filter(pk=item.pk, manager=roles.manager_profile)
            .first()
        )
        if locked is None:
            raise PermissionDenied
        if not locked.is_open:
            raise DomainError(_("This audit has already been decided."), code="state")
        if today > locked.due_on:
            raise DomainError(
                _("The deadline for this audit (%(date)s) has passed.")
                % {"date": formats.date_format(locked.due_on, "DATE_FORMAT")},
                code="deadline",
            )
        if evidence is None and not locked.evidence:
            raise DomainError(
                {"evidence": [_("Attach the evidence (PDF, JPEG or PNG).")]}, code="evidence"
            )
        locked.answer = (answer or "").strip()
        if evidence is not None:
            locked.evidence_name = evidence.name[:255]
            locked.evidence = evidence
        locked.answered_at = timezone.now()
        locked.status = AuditItem.Status.ANSWERED
        locked.save()
    return locked


# --- the bureau's decision -------------------------------------------------------------------


def audit_decide(*, actor: User, item: AuditItem, upheld: bool, note: str = "") -> AuditItem:
    """Uphold (the record is verified and keeps counting) or reject (it stops counting) an
    audited record, with a note (required to reject). Locks the item and its record; the same
    decision again is harmless, another official's earlier decision is reported, not replaced."""
    if not (actor.is_superuser or roles_of(actor).role == Role.BUREAU):
        raise PermissionDenied
    note = (note or "").strip()
    if not upheld and not note:
        raise DomainError(
            {"note": [_("Give the reason for the rejection; the manager will see it.")]},
            code="note",
        )
    target = AuditItem.Status.UPHELD if upheld else AuditItem.Status.REJECTED
    with transaction.atomic():
        locked = (
            selectors.audit_item_list_for(user=actor)
            .select_for_update(of=("self",))
            .filter(pk=item.pk)
            .first()
        )
        if locked is None:
            raise PermissionDenied
        if locked.status == target and locked.decided_by_id == actor.pk:
            return locked
        if not locked.is_open:
            raise _decided_error(locked)
        record = StudyRecord.objects.select_for_update().get(pk=locked.record_id)
        now = timezone.now()
        locked.status = target
        locked.decided_by = actor
        locked.decided_at = now
        locked.note = note
        locked.save(update_fields=["status", "decided_by", "decided_at", "note"])
        if upheld:
            if record.status == StudyRecord.Status.ACCEPTED:
                record.status = StudyRecord.Status.VERIFIED
                record.verified_by, record.verified_at = actor, now
                record.save(update_fields=["status", "verified_by", "verified_at"])
        else:
            _reject_record(record, actor=actor, now=now, reason=note)
        notices_create([_decision_notice(locked, record)])
        if not upheld:
            _rejected([(locked.manager, record.completed_on.year)], actor)
    return locked


def _reject_record(record: StudyRecord, *, actor: User | None, now, reason: str) -> None:
    record.status = StudyRecord.Status.REJECTED
    record.verified_by, record.verified_at = actor, now
    record.rejection_reason = reason
    record.save(update_fields=["status", "verified_by", "verified_at", "rejection_reason"])


def _decision_notice(item: AuditItem, record: StudyRecord) -> NewNotice:
    upheld = item.status == AuditItem.Status.UPHELD
    return NewNotice(
        recipient_id=item.manager.user_id,
        kind=Notice.Kind.AUDIT_UPHELD if upheld else Notice.Kind.AUDIT_REJECTED,
        link=reverse("training:audit_answer", args=[item.pk]),
        params={
            "year": record.completed_on.year,
            "title": record.title,
            "hours": str(record.hours),
            "note": item.note,
            "expired": item.expired,
            "due_on": item.due_on.isoformat(),
        },
        year=record.completed_on.year,
        milestone=f"audit-{item.pk}",
    )


def _decided_error(item: AuditItem) -> DomainError:
    if item.decided_by_id is None:
        return DomainError(
            _(
                "This audit is already “%(status)s”: nothing was answered by the deadline. "
                "Nothing was changed."
            )
            % {"status": item.get_status_display()},
            code="state",
        )
    official = item.decided_by
    return DomainError(
        _("This audit is already “%(status)s”: by %(official)s at %(time)s. Nothing was changed.")
        % {
            "status": item.get_status_display(),
            "official": official.get_full_name() or official.email,
            "time": formats.date_format(timezone.localtime(item.decided_at), "DATETIME_FORMAT"),
        },
        code="state",
    )


# --- the daily job ---------------------------------------------------------------------------


def audits_expire(*, today: dt.date) -> int:
    """Reject every audited record whose evidence was still not given when its deadline
    passed: its hours stop counting, the outcome is recorded (`expired`, no official) and the
    manager is told. A record the training provider has reported meanwhile is upheld instead.
    Safe to run twice (only open, unanswered items are taken, under lock). Returns how many
    items it closed."""
    with transaction.atomic():
        items = list(
            AuditItem.objects.select_for_update(of=("self",))
            .select_related("manager")
            .filter(status=AuditItem.Status.REQUESTED, due_on__lt=today)
            .order_by("pk")
        )
        if not items:
            return 0
        records = {
            record.pk: record
            for record in StudyRecord.objects.select_for_update(of=("self",))
            .select_related("course")
            .filter(pk__in=[item.record_id for item in items])
        }
        now = timezone.now()
        notices = []
        upheld, rejected = [], []
        for item in items:
            record = records[item.record_id]
            if record.source == StudyRecord.Source.PROVIDER:
                # The provider reported the course meanwhile (its report replaced the manager's
                # own record): that is the evidence; the record is the provider's now.
                upheld.append(item.pk)
                continue
            rejected.append(item)
            item.status, item.expired, item.decided_at = AuditItem.Status.REJECTED, True, now
            notices.append(_decision_notice(item, record))
        with translation.override(settings.LANGUAGE_CODE):
            provider_note = gettext("The training provider reported this course.")
        AuditItem.objects.filter(pk__in=upheld).update(
            status=AuditItem.Status.UPHELD, decided_at=now, note=provider_note
        )
        AuditItem.objects.filter(pk__in=[item.pk for item in rejected]).update(
            status=AuditItem.Status.REJECTED, expired=True, decided_at=now
        )
        # The records, in one statement per deadline (the reason names it).
        by_due: dict[dt.date, list[int]] = defaultdict(list)
        for item in rejected:
            by_due[item.due_on].append(item.record_id)
        for due_on, record_ids in by_due.items():
            with translation.override(settings.LANGUAGE_CODE):
                reason = gettext("Audit: no evidence was given by %(date)s.") % {
                    "date": formats.date_format(due_on, "DATE_FORMAT")
                }
            StudyRecord.objects.filter(pk__in=record_ids).update(
                status=StudyRecord.Status.REJECTED,
                verified_by=None,
                verified_at=now,
                rejection_reason=reason,
            )
        notices_create(notices)
        pairs = {
            (item.manager_id, records[item.record_id].completed_on.year): item.manager
            for item in rejected
        }
        _rejected([(manager, year) for (_id, year), manager in sorted(pairs.items())], None)
    return len(items)


def audits_draw_scheduled(*, today: dt.date) -> list[int]:
    """The scheduled draws due today: for each jurisdiction whose own policy is in audit mode
    with `draw_every_days`, when its last scheduled draw of the year is that old (or there is
    none): the current year, and in the first quarter also the previous one (its records are
    still being entered until the filing)."""
    drawn = []
    policies = AuditPolicy.objects.filter(
        mode=AuditPolicy.Mode.AUDIT, draw_every_days__gt=0
    ).select_related("jurisdiction")
    for policy in policies:
        years = [today.year] + ([today.year - 1] if today.month <= 3 else [])
        for year in years:
            last = (
                AuditDraw.objects.filter(
                    jurisdiction=policy.jurisdiction, year=year, scheduled_on__isnull=False
                )
                .order_by("-scheduled_on")
                .values_list("scheduled_on", flat=True)
                .first()
            )
            if last is not None and (today - last).days < policy.draw_every_days:
                continue
            draw = audit_draw(
                actor=None,
                jurisdiction=policy.jurisdiction,
                year=year,
                today=today,
                scheduled_on=today,
            )
            drawn.append(draw.pk)
    return drawn


def audits_daily(*, today: dt.date | None = None) -> dict[str, int]:
    """The daily audit job (beat): first reject what passed its deadline, then the scheduled
    draws."""
    today = today or timezone.localdate()
    expired = audits_expire(today=today)
    draws = audits_draw_scheduled(today=today)
    return {"expired": expired, "draws": len(draws)}
