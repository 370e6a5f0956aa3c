"""Pages of the credit file: the manager's own (score explained, the key-supervision list,
objections and repair), and the bureau's (objections and repairs awaiting a decision, the
key-supervision list). Thin: scoped selector, form, one service, message, redirect."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import bureau_required, manager_required, role_required
from accounts.roles import Role, roles_of
from accounts.selectors import manager_list_for
from core.errors import DomainError
from core.uploads import serve_private_file
from registry import selectors as registry_selectors
from registry.models import ConductRecord
from registry.selectors import in_force_between

from . import selectors, services
from .forms import DecisionForm, DelistForm, ListForm, ObjectionForm, RepairForm
from .models import Objection, RepairRequest
from .policy import policy_for


def _act(request, call, success: str) -> bool:
    try:
        call()
    except DomainError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return False
    messages.success(request, success)
    return True


def _form_errors(request, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


# --- the manager -----------------------------------------------------------------------------


@manager_required
@require_http_methods(["GET"])
def my_credit(request):
    """The manager's credit file: each year's score with every point explained, his entries on
    the key-supervision list, his objections and repair requests with their deadlines, and
    what he may object to or apply to repair."""
    manager = roles_of(request.user).manager_profile
    today = timezone.localdate()
    summary = selectors.credit_summary_for(manager=manager, on=today)
    objections = list(selectors.objection_list_for(user=request.user)[:50])
    repairs = list(selectors.repair_list_for(user=request.user)[:50])
    pending_repairs = {
        r.conduct_record_id for r in repairs if r.status == RepairRequest.Status.PENDING
    }
    pending_objections = {o.target_key for o in objections if o.status == Objection.Status.PENDING}
    options = services.objection_options(manager=manager, today=today)
    policy = policy_for(jurisdiction=manager.jurisdiction)
    repairable = []
    for record in ConductRecord.objects.filter(
        in_force_between(today, today), manager=manager, kind=ConductRecord.Kind.BAD
    ).order_by("-occurred_on"):
        days = (
            policy.repair_after_days_serious
            if record.severity == ConductRecord.Severity.SERIOUS
            else policy.repair_after_days
        )
        record.repair_from = record.effective_from + timezone.timedelta(days=days)
        record.can_repair = record.repair_from <= today and record.pk not in pending_repairs
        record.repair_pending = record.pk in pending_repairs
        repairable.append(record)
    record = registry_selectors.credit_record_for(
        manager=manager,
        conduct=registry_selectors.conduct_record_list_for(user=request.user),
        full_reasons=True,
    )
    return render(
        request,
        "credit/credit_file.html",
        {
            "manager": manager,
            "record": record,
            "evidence_visible": True,
            "summary": summary,
            "objections": objections,
            "repairs": repairs,
            "options": options,
            "pending_objections": pending_objections,
            "repairable": repairable,
            "objection_form": ObjectionForm(),
            "repair_form": RepairForm(),
            "today": today,
        },
    )


@manager_required
@require_POST
def objection_submit(request):
    form = ObjectionForm(request.POST, request.FILES)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("credit:my_credit")
    data = form.cleaned_data
    try:
        _act(
            request,
            lambda: services.objection_submit(
                actor=request.user,
                target=data["target"],
                pk=data.get("pk"),
                year=data.get("year"),
                deduction=data.get("deduction") or "",
                reason=data["reason"],
                evidence=data.get("evidence"),
            ),
            _("Your objection was sent to the housing bureau."),
        )
    except PermissionDenied as exc:
        raise Http404 from exc
    return redirect("credit:my_credit")


@manager_required
@require_POST
def repair_submit(request, pk):
    manager = roles_of(request.user).manager_profile
    record = get_object_or_404(
        ConductRecord.objects.filter(manager=manager, kind=ConductRecord.Kind.BAD), pk=pk
    )
    form = RepairForm(request.POST, request.FILES)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("credit:my_credit")
    _act(
        request,
        lambda: services.repair_submit(
            actor=request.user,
            record=record,
            statement=form.cleaned_data["statement"],
            proof=form.cleaned_data["proof"],
        ),
        _("Your repair request was sent to the housing bureau."),
    )
    return redirect("credit:my_credit")


@role_required(Role.MANAGER, Role.BUREAU, Role.ADMIN)
@require_http_methods(["GET"])
def objection_evidence(request, pk):
    objection = selectors.objection_get_for(user=request.user, pk=pk)
    if not objection.evidence:
        raise Http404
    return serve_private_file(objection.evidence, download_name=objection.evidence_name)


@role_required(Role.MANAGER, Role.BUREAU, Role.ADMIN)
@require_http_methods(["GET"])
def repair_proof(request, pk):
    repair = selectors.repair_get_for(user=request.user, pk=pk)
    return serve_private_file(repair.proof, download_name=repair.proof_name)


# --- the bureau ------------------------------------------------------------------------------


@bureau_required
@require_http_methods(["GET"])
def bureau_queue(request):
    """Objections and repairs awaiting a decision in the official's jurisdiction, the oldest
    deadline first, and the latest decided ones."""
    objections = selectors.objection_list_for(user=request.user).select_related(
        "registry_status", "conduct_record", "supervision_entry"
    )
    repairs = selectors.repair_list_for(user=request.user)
    return render(
        request,
        "credit/bureau_queue.html",
        {
            "pending_objections": list(
                objections.filter(status=Objection.Status.PENDING).order_by("due_on", "pk")[:200]
            ),
            "pending_repairs": list(
                repairs.filter(status=RepairRequest.Status.PENDING).order_by("due_on", "pk")[:200]
            ),
            "decided_objections": list(
                objections.exclude(status=Objection.Status.PENDING).order_by("-decided_at")[:20]
            ),
            "decided_repairs": list(
                repairs.exclude(status=RepairRequest.Status.PENDING).order_by("-decided_at")[:20]
            ),
            "form": DecisionForm(),
            "today": timezone.localdate(),
        },
    )


@bureau_required
@require_POST
def objection_decide(request, pk):
    objection = selectors.objection_get_for(user=request.user, pk=pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        _act(
            request,
            lambda: services.objection_decide(
                actor=request.user,
                objection=objection,
                uphold=form.cleaned_data["decision"] == "uphold",
                reason=form.cleaned_data["reason"],
            ),
            _("The objection is decided."),
        )
    else:
        _form_errors(request, form)
    return redirect("credit:bureau_queue")


@bureau_required
@require_POST
def repair_decide(request, pk):
    repair = selectors.repair_get_for(user=request.user, pk=pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        _act(
            request,
            lambda: services.repair_decide(
                actor=request.user,
                repair=repair,
                approve=form.cleaned_data["decision"] == "uphold",
                reason=form.cleaned_data["reason"],
            ),
            _("The repair request is decided."),
        )
    else:
        _form_errors(request, form)
    return redirect("credit:bureau_queue")


@bureau_required
@require_http_methods(["GET"])
def bureau_supervision(request):
    """The key-supervision list of the official's jurisdiction: who is on it today, and the
    form to list a manager by hand."""
    entries = selectors.supervision_entries_active(
        selectors.supervision_list_for(user=request.user)
    ).order_by("-starts_on", "-pk")
    return render(
        request,
        "credit/bureau_supervision.html",
        {"entries": list(entries[:500]), "form": ListForm(), "delist_form": DelistForm()},
    )


@bureau_required
@require_POST
def supervision_add(request):
    form = ListForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("credit:bureau_supervision")
    manager = (
        manager_list_for(user=request.user)
        .filter(registration_number=form.cleaned_data["registration_number"].strip().upper())
        .first()
    )
    if manager is None:
        messages.error(request, _("No manager with this registration number in your jurisdiction."))
        return redirect("credit:bureau_supervision")
    _act(
        request,
        lambda: services.supervision_list(
            actor=request.user,
            manager=manager,
            reason=form.cleaned_data["reason"],
            public_reason=form.cleaned_data["public_reason"],
            days=form.cleaned_data["days"],
        ),
        _("The manager is on the key-supervision list."),
    )
    return redirect("credit:bureau_supervision")


@bureau_required
@require_POST
def supervision_delist(request, pk):
    entry = get_object_or_404(selectors.supervision_list_for(user=request.user), pk=pk)
    form = DelistForm(request.POST)
    if form.is_valid():
        _act(
            request,
            lambda: services.supervision_delist(
                actor=request.user, entry=entry, reason=form.cleaned_data["reason"]
            ),
            _("The manager was taken off the key-supervision list."),
        )
    else:
        _form_errors(request, form)
    return redirect("credit:bureau_supervision")
