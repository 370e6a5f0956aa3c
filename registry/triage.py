"""Triage of filings for the bureau (its filing list in the admin): the risk flags, the
assignment to a named official ("my queue"), extensions granted to many managers at once, and
"approve every filing without a risk flag" as a background job with a result per filing.

The risk flags are columns of the filing, written by the services when they change (the
proofs freeze at submission): hours short and the CE proof uploaded rather than the portal's
transcript (at submission), returns (at each return), a document whose content hash is also a
current proof of another manager (at submission, and at the upload that makes the match, on
both filings). The list reads and filters them without a subquery per row (an `EXISTS` per row
took seconds on a province's 50,000 filings).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import JSONObject
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import BureauMembership, ManagerProfile, User
from accounts.roles import Role, roles_of
from accounts.selectors import manager_list_for
from core.broker import publish
from core.errors import DomainError
from notifications.models import Notice
from notifications.services import emails_queue, notice_rows, notices_insert_from

from . import selectors, services
from .models import (
    AnnualFiling,
    BulkApprovalItem,
    BulkApprovalJob,
    FilingExtension,
)

Status = AnnualFiling.Status
Outcome = BulkApprovalItem.Outcome

#: (annotation, label) of each risk flag, in the order the list shows them.
RISK_FLAGS: list[tuple[str, object]] = [
    ("risk_hours_short", _("Hours short at submission")),
    ("risk_ce_uploaded", _("CE proof uploaded, not the portal's transcript")),
    ("risk_resubmitted", _("Resubmitted after a return")),
    ("risk_duplicate", _("A document also filed by another manager")),
]
RISK_NAMES = [name for name, _label in RISK_FLAGS]
RISK_LABELS = dict(RISK_FLAGS)

#: Name of the background task of a bulk approval (published after the commit).
BULK_APPROVAL_TASK = "registry.bulk_approval_run"


def with_risk(filings: QuerySet[AnnualFiling]) -> QuerySet[AnnualFiling]:
    """Filings annotated with one boolean per risk flag (`RISK_NAMES`): stored columns, so the
    list filters and counts a province's filings without a subquery per row."""
    return filings.annotate(
        risk_hours_short=F("hours_short_at_submission"),
        risk_ce_uploaded=F("ce_uploaded"),
        risk_resubmitted=ExpressionWrapper(Q(return_count__gt=0), output_field=BooleanField()),
        risk_duplicate=F("duplicate_document"),
    )


def any_risk() -> Q:
    """On `with_risk` filings: at least one flag."""
    condition = Q()
    for name in RISK_NAMES:
        condition |= Q(**{name: True})
    return condition


def risk_labels(filing: AnnualFiling) -> list[str]:
    """The labels of the flags a `with_risk` filing carries."""
    return [str(label) for name, label in RISK_FLAGS if getattr(filing, name, False)]


def stored_risk_labels(filing: AnnualFiling) -> list[str]:
    """The labels of a filing's flags, from its columns (no `with_risk` needed)."""
    on = {
        "risk_hours_short": filing.hours_short_at_submission,
        "risk_ce_uploaded": filing.ce_uploaded,
        "risk_resubmitted": filing.return_count > 0,
        "risk_duplicate": filing.duplicate_document,
    }
    return [str(label) for name, label in RISK_FLAGS if on[name]]


def firm_review_days(filing: AnnualFiling) -> float | None:
    """How long the firm took over the latest submission, in days (None: not yet forwarded)."""
    if not filing.submitted_at or not filing.firm_approved_at:
        return None
    return (filing.firm_approved_at - filing.submitted_at).total_seconds() / 86400


def _bureau(actor: User) -> None:
    if not (actor.is_superuser or roles_of(actor).role == Role.BUREAU):
        raise PermissionDenied


# --- assignment ------------------------------------------------------------------------------


def assignable_staff(*, actor: User) -> QuerySet[User]:
    """Officials a filing can be assigned to by `actor`: active bureau staff of the actor's
    jurisdiction and below (an administrator: all). Whether one may take a given filing is
    checked per filing (`filing_assign`)."""
    staff = BureauMembership.objects.filter(user__is_active=True)
    if not actor.is_superuser:
        staff = staff.filter(jurisdiction__path__startswith=roles_of(actor).jurisdiction.path)
    return User.objects.filter(pk__in=staff.values("user_id")).order_by("last_name", "email")


@dataclass
class AssignResult:
    assigned: int
    refused: list[tuple[AnnualFiling, str]]


def filing_assign(
    *, actor: User, filings: QuerySet[AnnualFiling], assignee: User | None
) -> AssignResult:
    """Assign the filings (those in the actor's reach) to `assignee`, or to nobody (None).
    The assignee must be bureau staff who can see the filing: his jurisdiction is the filing's
    or above it. A filing outside that is refused and named; the others are assigned in one
    UPDATE (which leaves `updated_at` alone: an assignment is not a change of the filing)."""
    _bureau(actor)
    filings = selectors.filing_list_for(user=actor).filter(pk__in=filings.values("pk"))
    refused: list[tuple[AnnualFiling, str]] = []
    if assignee is not None:
        if assignee not in assignable_staff(actor=actor):
            raise DomainError(_("This person cannot be assigned filings."), code="assignee")
        outside = filings.exclude(
            pk__in=selectors.filing_list_for(user=assignee).values("pk")
        ).select_related("manager")
        name = assignee.get_full_name() or assignee.email
        refused = [
            (f, str(_("Outside the jurisdiction of %(name)s.") % {"name": name})) for f in outside
        ]
        filings = filings.exclude(pk__in=[f.pk for f, _why in refused])
    count = filings.order_by().update(
        assigned_to=assignee, assigned_at=timezone.now() if assignee else None
    )
    return AssignResult(assigned=count, refused=refused)


# --- extensions to many managers --------------------------------------------------------------


@dataclass
class ExtensionResult:
    granted: list[int]  # manager ids
    kept: int  # managers whose deadline was already as late or later
    refused: list[tuple[ManagerProfile, str]]


def filing_extensions_grant(
    *,
    actor: User,
    managers: QuerySet[ManagerProfile],
    year: int,
    until: dt.date,
    reason: str,
) -> ExtensionResult:
    """Give many managers the deadline `until` for `year`, with one reason; each is told
    (a notice, e-mailed after the commit). Managers outside the actor's reach are left out;
    an extension is never shortened (a later deadline already granted stays). A few
    statements whatever the number: one upsert of the extensions, one insert of the notices.
    Repeating it (a double click) writes and tells nothing twice."""
    _bureau(actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError({"reason": [_("Give the reason for the extension.")]}, code="reason")
    managers = list(
        manager_list_for(user=actor)
        .filter(pk__in=managers.values("pk"), jurisdiction__isnull=False)
        .select_related("jurisdiction")
    )
    refused: list[tuple[ManagerProfile, str]] = []
    errors: dict[int, str | None] = {}
    for manager in managers:
        if manager.jurisdiction_id not in errors:
            errors[manager.jurisdiction_id] = services.extension_until_error(
                manager=manager, year=year, until=until
            )
    existing = dict(
        FilingExtension.objects.filter(year=year, manager__in=managers).values_list(
            "manager_id", "until"
        )
    )
    wanted, kept = [], 0
    for manager in managers:
        error = errors[manager.jurisdiction_id]
        if error:
            refused.append((manager, error))
        elif existing.get(manager.pk) and existing[manager.pk] >= until:
            kept += 1
        else:
            wanted.append(manager)
    with transaction.atomic():
        FilingExtension.objects.bulk_create(
            [
                FilingExtension(manager=m, year=year, until=until, reason=reason, granted_by=actor)
                for m in wanted
            ],
            update_conflicts=True,
            unique_fields=["manager", "year"],
            update_fields=["until", "reason", "granted_by", "granted_at"],
        )
        _notify_extended(manager_ids=[m.pk for m in wanted], year=year, until=until, reason=reason)
    return ExtensionResult(granted=[m.pk for m in wanted], kept=kept, refused=refused)


def _notify_extended(*, manager_ids: list[int], year: int, until: dt.date, reason: str) -> None:
    """One notice per manager, keyed by the new deadline, in one statement."""
    if not manager_ids:
        return
    ids = notices_insert_from(
        notice_rows(
            ManagerProfile.objects.filter(pk__in=manager_ids).order_by(),
            recipient="user_id",
            kind=Notice.Kind.FILING_EXTENDED,
            params=JSONObject(
                year=Value(year),
                until=Value(until.isoformat()),
                reason=Value(reason),
            ),
            link=reverse("registry:my_filing") + f"?year={year}",
            year=year,
            milestone=f"ext-{until:%Y%m%d}",
            now=timezone.now(),
        )
    )
    emails_queue(ids)


# --- "approve every filing without a risk flag" in the background -------------------------


def bulk_approval_start(
    *, actor: User, filings: QuerySet[AnnualFiling], query: str = ""
) -> tuple[BulkApprovalJob, bool]:
    """Start approving, in the background, the filings of `filings` (the list the official
    chose, narrowed to his reach) that await the bureau. Those with a risk flag now are
    recorded as skipped, with the flags; the others are approved one by one by the task, each
    locked and checked again (`bulk_approval_run`).

    (job, True) when started; (the open job, False) when the same official already runs one
    for the same filings (a double click). The task is published after the commit."""
    _bureau(actor)
    rows = list(
        with_risk(
            selectors.filing_list_for(user=actor).filter(
                pk__in=filings.values("pk"), status=Status.AWAITING_BUREAU
            )
        )
        .order_by("pk")
        .values_list("pk", "updated_at", *RISK_NAMES)
    )
    key = hashlib.sha256(",".join(str(row[0]) for row in rows).encode()).hexdigest()
    try:
        with transaction.atomic():
            job = BulkApprovalJob.objects.create(
                created_by=actor, key=key, query=query[:500], total=len(rows)
            )
            now = timezone.now()
            items = []
            for pk, updated_at, *flags in rows:
                labels = [
                    str(RISK_LABELS[n]) for n, on in zip(RISK_NAMES, flags, strict=True) if on
                ]
                items.append(
                    BulkApprovalItem(
                        job=job,
                        filing_id=pk,
                        seen_updated_at=updated_at,
                        outcome=Outcome.SKIPPED if labels else Outcome.PENDING,
                        note="; ".join(labels),
                        done_at=now if labels else None,
                    )
                )
            BulkApprovalItem.objects.bulk_create(items, batch_size=1000)
            transaction.on_commit(lambda: publish(BULK_APPROVAL_TASK, [job.pk]))
    except IntegrityError:
        open_job = BulkApprovalJob.objects.filter(created_by=actor, key=key).exclude(
            state=BulkApprovalJob.State.DONE
        )
        job = open_job.first()
        if job is None:  # it finished between the two statements: start a new one
            return bulk_approval_start(actor=actor, filings=filings, query=query)
        return job, False
    return job, True


def bulk_approval_run(*, job_id: int) -> BulkApprovalJob:
    """Work through a job's waiting items, each in its own transaction: lock the item (skip it
    if another worker holds it) and the filing; a filing changed since the job started (another
    decision, a return and resubmission) or flagged since is reported, not approved; otherwise
    it is approved through the one approval service, as the official who started the job.
    Safe to run twice or at once: an item is decided once."""
    job = BulkApprovalJob.objects.select_related("created_by").get(pk=job_id)
    BulkApprovalJob.objects.filter(pk=job_id, state=BulkApprovalJob.State.QUEUED).update(
        state=BulkApprovalJob.State.RUNNING
    )
    actor = job.created_by
    waiting = list(job.items.filter(outcome=Outcome.PENDING).values_list("pk", flat=True))
    for item_id in waiting:
        with transaction.atomic():
            item = (
                BulkApprovalItem.objects.select_for_update(skip_locked=True)
                .filter(pk=item_id, outcome=Outcome.PENDING)
                .first()
            )
            if item is None:
                continue
            item.outcome, item.note = _decide_item(item, actor)
            item.done_at = timezone.now()
            item.save(update_fields=["outcome", "note", "done_at"])
    if not BulkApprovalItem.objects.filter(job_id=job_id, outcome=Outcome.PENDING).exists():
        BulkApprovalJob.objects.filter(pk=job_id).exclude(state=BulkApprovalJob.State.DONE).update(
            state=BulkApprovalJob.State.DONE, finished_at=timezone.now()
        )
    job.refresh_from_db()
    return job


def _decide_item(item: BulkApprovalItem, actor: User) -> tuple[str, str]:
    filing = AnnualFiling.objects.select_for_update().filter(pk=item.filing_id).first()
    if filing is None:
        return Outcome.CHANGED, str(_("The filing no longer exists."))
    if filing.status != Status.AWAITING_BUREAU or filing.updated_at != item.seen_updated_at:
        return Outcome.CHANGED, str(
            _("Changed since the job started; now “%(status)s”.")
            % {"status": filing.get_status_display()}
        )
    current = with_risk(AnnualFiling.objects.filter(pk=filing.pk)).values(*RISK_NAMES).get()
    flags = [str(RISK_LABELS[n]) for n in RISK_NAMES if current[n]]
    if flags:
        return Outcome.CHANGED, str(_("Flagged since the job started: %(flags)s.")) % {
            "flags": "; ".join(flags)
        }
    try:
        with transaction.atomic():
            services.filing_bureau_approve(actor=actor, filing=filing)
    except DomainError as exc:
        return Outcome.SKIPPED, " ".join(exc.messages)
    except PermissionDenied:
        return Outcome.SKIPPED, str(_("Not in your reach; nothing was changed."))
    return Outcome.APPROVED, ""


def bulk_approval_resume(*, actor: User, job: BulkApprovalJob) -> bool:
    """Publish the job's task again (a worker died, the broker lost it): it takes up the items
    still waiting; running it twice is harmless. False if the job is done."""
    if job.created_by_id != actor.pk and not actor.is_superuser:
        raise PermissionDenied
    if job.state == BulkApprovalJob.State.DONE:
        return False
    return publish(BULK_APPROVAL_TASK, [job.pk])


def bulk_approval_get_for(*, user: User, pk: int) -> BulkApprovalJob:
    """A job of the user's own (an administrator: any); 404 otherwise."""
    jobs = BulkApprovalJob.objects.all()
    if not user.is_superuser:
        jobs = jobs.filter(created_by=user)
    return get_object_or_404(jobs, pk=pk)


def bulk_approval_counts(job: BulkApprovalJob) -> dict[str, int]:
    """Items by outcome ("" = waiting), one query."""
    counts = dict(
        job.items.order_by()
        .values_list("outcome")
        .annotate(n=Count("pk"))
        .values_list("outcome", "n")
    )
    return {outcome.value: counts.get(outcome.value, 0) for outcome in Outcome}


def bulk_approval_rows(job: BulkApprovalJob) -> list[list]:
    """The result per filing, as the downloadable sheet's rows: name, registration number,
    firm, year, outcome, why. One query."""
    labels = dict(Outcome.choices)
    return [
        [
            item.filing.manager.real_name,
            item.filing.manager.registration_number,
            item.filing.firm.name if item.filing.firm_id else "",
            item.filing.year,
            str(labels.get(item.outcome, item.outcome)),
            item.note,
        ]
        for item in job.items.select_related("filing__manager", "filing__firm").only(
            "outcome",
            "note",
            "filing__year",
            "filing__firm_id",
            "filing__manager__real_name",
            "filing__manager__registration_number",
            "filing__firm__name",
        )
    ]
