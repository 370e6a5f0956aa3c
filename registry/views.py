"""Pages of the annual filing: the manager's filing, the firm's review queue, notices and the
public certificate check. Thin: scoped selector, form, one service, message, redirect."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import firm_required, manager_required, role_required
from accounts.roles import Role, page_identity, roles_of
from accounts.selectors import current_employment
from core.errors import DomainError
from core.exports import xlsx_export
from core.pagecache import kept_page
from core.throttle import throttled
from core.uploads import (
    content_disposition,
    read_private_file,
    serve_private_bytes,
    serve_private_file,
)
from core.watermark import WatermarkError, watermark, watermark_lines

from . import exports, pdf, selectors, services
from .display import snapshot_compliance, snapshot_rows
from .filters import QUEUE_STATUSES, FirmQueueFilter
from .forms import LookupForm, ProofUploadForm, ReturnForm, VerifyForm
from .models import AnnualFiling, FilingProof

log = logging.getLogger(__name__)


def _errors_to_messages(request, exc: DomainError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _act(request, call, success: str) -> bool:
    """Run one service call: its refusal becomes error messages, success a success message."""
    try:
        call()
    except DomainError as exc:
        _errors_to_messages(request, exc)
        return False
    messages.success(request, success)
    return True


def _my_filing_url(filing: AnnualFiling) -> str:
    return reverse("registry:my_filing") + f"?year={filing.year}"


# --- the manager -----------------------------------------------------------------------------


@manager_required
def my_filing(request):
    """The manager's filing of a year (default: the one being filed now), with its checklist."""
    manager = roles_of(request.user).manager_profile
    today = timezone.localdate()
    try:
        asked = int(request.GET.get("year", ""))
    except ValueError:
        asked = None
    if asked is not None and not 2000 <= asked <= today.year + 1:
        asked = None
    # Last year's and this year's deadlines (which year is being filed now) in one query, shared
    # with the banner; another year's only when asked for. The filings with their proofs and
    # events and the current employment in three.
    deadlines = selectors.todays_deadlines(manager=manager, today=today)
    current = selectors.current_filing_year(manager=manager, today=today, deadlines=deadlines)
    year = asked or current
    if year not in deadlines:
        deadlines = selectors.deadlines_for(manager=manager, years={year})
    mine = selectors.manager_filings(manager=manager)
    filing = mine.of_year(year)
    deadline = deadlines[year]
    context = {
        "year": year,
        "years": sorted(
            selectors.manager_calendar(manager=manager, today=today).years | {current, year},
            reverse=True,
        ),
        "deadline": deadline,
        "window_open": deadline.allows(today),
        "can_start": deadline.allows_preparing(today),
        "employment": mine.employment,
        "filing": None,
    }
    if filing is not None:
        proofs = selectors.current_proofs(filing)
        context.update(
            filing=filing,
            checklist=[(kind, proofs.get(kind.value)) for kind in FilingProof.Kind],
            old_proofs=[p for p in filing.proofs.all() if p.replaced_at is not None],
            problems=(
                services.filing_submission_errors(
                    filing=filing, today=today, deadline=deadline, employment=mine.employment
                )
                if filing.is_editable
                else []
            ),
            upload_form=ProofUploadForm(),
            reusable=selectors.reusable_proofs(filing=filing) if filing.is_editable else {},
            can_withdraw=filing.status == AnnualFiling.Status.AWAITING_FIRM,
            # Open marks exist only on a returned filing (closed at the resubmission).
            marks=selectors.open_marks(filing)
            if filing.status == AnnualFiling.Status.RETURNED
            else {},
        )
    return render(request, "registry/filing_manager.html", context)


@manager_required
@require_POST
def filing_start(request):
    try:
        year = int(request.POST.get("year", ""))
    except ValueError:
        raise Http404 from None
    try:
        filing = services.filing_start(actor=request.user, year=year)
    except DomainError as exc:
        _errors_to_messages(request, exc)
        return redirect(reverse("registry:my_filing") + f"?year={year}")
    return redirect(_my_filing_url(filing))


@manager_required
@require_POST
def proof_upload(request, pk):
    filing = selectors.filing_get_for(user=request.user, pk=pk)
    form = ProofUploadForm(request.POST, request.FILES)
    if form.is_valid():
        kind = form.cleaned_data["kind"]
        _act(
            request,
            lambda: services.filing_proof_upload_pages(
                actor=request.user, filing=filing, kind=kind, files=form.cleaned_data["file"]
            ),
            _("%(kind)s uploaded.") % {"kind": FilingProof.Kind(kind).label},
        )
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(_my_filing_url(filing))


def _own_filing_action(request, pk: int, service, success: str):
    """A manager's action on his own filing: the filing through the scoped selector, the
    service, a message, back to the filing page."""
    filing = selectors.filing_get_for(user=request.user, pk=pk)
    _act(request, lambda: service(actor=request.user, filing=filing), success)
    return redirect(_my_filing_url(filing))


@manager_required
@require_POST
def proof_reuse(request, pk):
    """Use last year's proof of a kind again (the document wallet)."""
    kind = request.POST.get("kind", "")
    if kind not in selectors.REUSABLE_PROOF_KINDS:
        raise Http404
    return _own_filing_action(
        request,
        pk,
        lambda actor, filing: services.filing_proof_reuse(actor=actor, filing=filing, kind=kind),
        _("%(kind)s: last year's file is used.") % {"kind": FilingProof.Kind(kind).label},
    )


@manager_required
@require_POST
def proof_use_transcript(request, pk):
    return _own_filing_action(
        request,
        pk,
        services.filing_proof_use_transcript,
        _("The portal's transcript is attached as the CE proof."),
    )


@manager_required
@require_POST
def filing_submit(request, pk):
    return _own_filing_action(
        request,
        pk,
        services.filing_submit,
        _("Your filing was submitted to your firm for review."),
    )


@manager_required
@require_POST
def filing_withdraw(request, pk):
    return _own_filing_action(
        request,
        pk,
        services.filing_withdraw,
        _("Your filing was withdrawn; it is a draft again."),
    )


@manager_required
def filing_certificate(request, pk):
    filing = selectors.filing_get_for(user=request.user, pk=pk)
    if filing.status != AnnualFiling.Status.APPROVED:
        raise Http404
    response = HttpResponse(pdf.certificate_pdf(filing=filing), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(
        f"备案证明-{filing.year}-{filing.manager.registration_number}.pdf", inline=False
    )
    response["Cache-Control"] = "private, no-store"
    return response


@role_required(Role.MANAGER, Role.FIRM, Role.BUREAU, Role.ADMIN)
@xframe_options_sameorigin
def proof_file(request, pk):
    """A proof, for the manager, the reviewing firm and the bureau (embeddable in our pages).
    An ID card reaches anyone but bureau staff only as a watermarked copy."""
    proof = selectors.proof_get_for(user=request.user, pk=pk)
    if _needs_watermark(request.user, proof):
        return _watermarked(request, proof)
    return serve_private_file(proof.file, download_name=proof.original_name)


#: What a watermarked copy of an ID card may be used for (drawn on it).
WATERMARK_PURPOSE = gettext_lazy("For the annual filing review only")


def _needs_watermark(user, proof: FilingProof) -> bool:
    """ID cards are personal data that firm staff could pass on: everyone but the bureau,
    which keeps the originals, sees a copy marked with who viewed it, when and what for."""
    return proof.kind == FilingProof.Kind.ID_CARD and roles_of(user).role != Role.BUREAU


def _watermarked(request, proof: FilingProof) -> HttpResponse:
    content, mime = read_private_file(proof.file)
    lines = watermark_lines(
        viewer=request.user.email, day=timezone.localdate(), purpose=str(WATERMARK_PURPOSE)
    )
    try:
        marked = watermark(content, mime=mime, lines=lines)
    except WatermarkError:
        log.warning("proof %s: the ID card could not be watermarked", proof.pk, exc_info=True)
        # Never the original instead.
        return HttpResponse(
            _("This file cannot be shown. Ask the housing bureau."),
            status=422,
            content_type="text/plain; charset=utf-8",
        )
    return serve_private_bytes(marked, content_type=mime, download_name=proof.original_name)


# --- the credit record (信用档案) -------------------------------------------------------------


@manager_required
@require_http_methods(["GET"])
def credit_record(request):
    """The manager's own credit record: the registry status of each year with its reasons,
    every change of it, and all his conduct records (public or not)."""
    manager = roles_of(request.user).manager_profile
    record = selectors.credit_record_for(
        manager=manager,
        conduct=selectors.conduct_record_list_for(user=request.user),
        full_reasons=True,
    )
    return render(
        request,
        "registry/credit_record.html",
        {"manager": manager, "record": record, "evidence_visible": True},
    )


@role_required(Role.MANAGER, Role.BUREAU, Role.ADMIN)
@require_http_methods(["GET"])
def conduct_evidence(request, pk):
    """The evidence of a conduct record: for the manager himself and bureau staff."""
    record = selectors.conduct_evidence_get_for(user=request.user, pk=pk)
    return serve_private_file(record.evidence, download_name=record.evidence_name)


# --- the firm --------------------------------------------------------------------------------


@firm_required
def firm_queue(request):
    # Kept rendered until a filing or an employment of the firm changes (core.pagecache):
    # reviewers reload it all through March.
    return kept_page(
        request,
        "registry:firm_queue",
        page_identity(request.user),
        lambda: _firm_queue(request),
        queries=_QUEUE_QUERIES,
    )


#: The queue's addresses that are kept: each status (the first page, no search).
_QUEUE_QUERIES = frozenset(f"status={status}" for status in QUEUE_STATUSES)


def _firm_queue(request) -> tuple[str, dict]:
    filters = FirmQueueFilter(request.GET, queryset=selectors.firm_queue_all(user=request.user))
    status, search = filters.chosen_status, filters.data.get("q", "").strip()
    number = request.GET.get("page")
    if not search and number in (None, "", "1") and not request.user.is_superuser:
        # The page everyone opens: prepared queries (selectors.firm_queue_first_page).
        rows, count = selectors.firm_queue_first_page(user=request.user, status=status)
        page = Paginator(_Counted(rows, count), selectors.QUEUE_PAGE).get_page(1)
    else:
        page = Paginator(filters.qs, selectors.QUEUE_PAGE).get_page(number)
        # The rows as tuples of what they show: no model objects for a list (registry_tags).
        page.object_list = list(page.object_list.values_list(*selectors.QUEUE_ROW, named=True))
    return (
        "registry/filing_firm_queue.html",
        {
            "page": page,
            "status": status,
            "statuses": AnnualFiling.Status.choices,
            "q": search,
            "can_bulk": status == AnnualFiling.Status.AWAITING_FIRM,
            "query": urlencode({"status": status, "q": search}),
        },
    )


class _Counted:
    """A first page's rows and the count read with them, as the Paginator asks for them."""

    def __init__(self, rows: list, count: int) -> None:
        self.rows, self._count = rows, count

    def count(self) -> int:
        return self._count

    def __getitem__(self, index):
        return self.rows[index]


@firm_required
def firm_queue_export(request):
    """The queue as filtered on screen, as .xlsx (ID numbers masked: firms never read them)."""
    filters = FirmQueueFilter(request.GET, queryset=selectors.firm_queue_all(user=request.user))
    day = timezone.localdate().isoformat()
    return xlsx_export(
        _("annual filings") + f"-{day}.xlsx", exports.filing_columns(full_ids=False), filters.qs
    )


@firm_required
@require_POST
def firm_bulk_approve(request):
    """Approve several filings; each one's result is listed (a colleague may have been first)."""
    ids = [int(x) for x in request.POST.getlist("filing") if x.isdigit()][:200]
    filings = selectors.filing_list_for(user=request.user).filter(pk__in=ids)
    results = services.filing_decide_each(
        actor=request.user,
        filings=sorted(filings, key=lambda f: f.manager.real_name),
        decide=services.filing_firm_approve,
    )
    if not results:
        messages.warning(request, _("Select at least one filing."))
        return redirect("registry:firm_queue")
    done = sum(1 for _filing, error in results if error is None)
    return render(
        request,
        "registry/filing_firm_bulk_result.html",
        {"results": results, "done": done, "failed": len(results) - done},
    )


@firm_required
def firm_filing_detail(request, pk):
    filing = selectors.filing_detail(selectors.filing_get_for(user=request.user, pk=pk))
    return render(
        request,
        "registry/filing_firm_detail.html",
        {
            "filing": filing,
            "current_proofs": selectors.current_proofs_in_order(filing),
            "snapshot_rows": snapshot_rows(filing.snapshot),
            "snapshot_compliance": snapshot_compliance(filing.snapshot),
            "can_review": selectors.can_firm_review(user=request.user, filing=filing),
            "return_form": ReturnForm(),
        },
    )


@firm_required
@require_POST
def firm_filing_approve(request, pk):
    filing = selectors.filing_get_for(user=request.user, pk=pk)
    done = _act(
        request,
        lambda: services.filing_firm_approve(actor=request.user, filing=filing),
        _("%(name)s's filing was approved and forwarded to the bureau.")
        % {"name": filing.manager.real_name},
    )
    if done:
        return redirect("registry:firm_queue")
    return redirect("registry:firm_filing_detail", pk=filing.pk)


@firm_required
@require_POST
def firm_filing_return(request, pk):
    filing = selectors.filing_get_for(user=request.user, pk=pk)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the reason for the return; the manager will see it."))
        return redirect("registry:firm_filing_detail", pk=filing.pk)
    done = _act(
        request,
        lambda: services.filing_firm_return(
            actor=request.user,
            filing=filing,
            reason=form.cleaned_data["reason"],
            marks=form.marks(),
        ),
        _("%(name)s's filing was returned with your reason.") % {"name": filing.manager.real_name},
    )
    if done:
        return redirect("registry:firm_queue")
    return redirect("registry:firm_filing_detail", pk=filing.pk)


# --- public ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def lookup(request):
    """The public lookup of a manager by registration number and name together, or by the
    code of a filing certificate: the registry status of each year and the public conduct
    records in force. Nothing private: no ID number, no phone.

    Numbers are sequential, so a number alone finds nothing, and a wrong name answers exactly
    as an unknown number does (status, words, an empty form). Look-ups (POST) are limited per
    client address (`PUBLIC_LOOKUP_RATE`, see core/throttle.py; open when Redis is down)."""
    form = LookupForm(request.POST if request.method == "POST" else None)
    manager = record = employment = None
    revoked = []
    if form.is_bound:
        if over := throttled(request, setting="PUBLIC_LOOKUP_RATE", scope="public-lookup"):
            return over
    searched = form.is_valid()
    if searched:
        data = form.cleaned_data
        if data["code"].strip():
            manager = selectors.public_manager_by_certificate(code=data["code"])
        else:
            manager = selectors.public_manager_lookup(number=data["number"], name=data["name"])
        if manager is not None:
            record = selectors.public_credit_record(manager=manager)
            employment = current_employment(manager=manager)
            revoked = selectors.public_revoked_filings(manager=manager)
        # What was typed is not echoed: a miss reads the same whichever field was wrong.
        form = LookupForm()
    return render(
        request,
        "registry/lookup.html",
        {
            "form": form,
            "searched": searched,
            "manager": manager,
            "record": record,
            "employment": employment,
            "revoked": revoked,
        },
        status=404 if searched and manager is None else 200,
    )


@require_http_methods(["GET"])
def verify(request, code=None):
    """The public check of a certificate: genuine or not, and the year's status. Nothing
    private: the name, the registration number, the firm, the year and the approval date."""
    if code is None:
        form = VerifyForm(request.GET or None)
        if form.is_valid():
            clean = "".join(ch for ch in form.cleaned_data["code"].upper() if ch.isalnum())
            return redirect("registry:verify", code=clean or "0")
        return render(request, "registry/verify.html", {"form": form})
    # The QR code's page: limited per client address (PUBLIC_VERIFY_RATE, open when Redis is
    # down), loosely enough for everyone behind one carrier NAT to scan certificates.
    if over := throttled(request, setting="PUBLIC_VERIFY_RATE", scope="public-verify"):
        return over
    filing = selectors.certificate_lookup(code=code)
    void = selectors.certificate_void(filing) if filing else None
    public = selectors.public_credit_record(manager=filing.manager) if filing and not void else None
    return render(
        request,
        "registry/verify.html",
        {
            "form": VerifyForm(initial={"code": code}),
            "code": code,
            "filing": filing,
            "display_code": pdf.format_code(filing.certificate_code) if filing else "",
            "firm_name": (filing.snapshot.get("firm") or {}).get("name", "") if filing else "",
            "status": next((s for s in public.statuses if s.year == filing.year), None)
            if public
            else None,
            "conduct": public.conduct if public else [],
            "void": void,
        },
        # Revoked, or the registration cancelled: the certificate existed and holds no more.
        status=404 if filing is None else 410 if void else 200,
    )
