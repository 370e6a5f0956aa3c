"""The columns of the registry's exported lists (filings, registry statuses, conduct records):
one definition for the admin's exports and the firm's (core.exports)."""

from __future__ import annotations

from operator import attrgetter

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.exports import manager_identity_columns
from core.exports import Column, choice_labels

from .models import AnnualFiling, ConductRecord, StatusChoice, StatusReason

_manager = attrgetter("manager")


def filing_columns(*, full_ids: bool) -> list[Column]:
    """Filings (rows: `AnnualFiling` with `manager`, `firm` and `jurisdiction` selected)."""
    status = choice_labels(AnnualFiling.Status.choices)
    return [
        *manager_identity_columns(full_ids=full_ids, manager=_manager),
        Column(_("year"), attrgetter("year"), width=8),
        Column(_("firm"), lambda f: f.firm.name if f.firm else "", width=30),
        Column(_("jurisdiction"), lambda f: f.jurisdiction.name if f.jurisdiction else ""),
        Column(_("status"), lambda f: status(f.status), width=16),
        Column(_("submissions"), attrgetter("round"), width=8),
        Column(_("submitted"), attrgetter("submitted_at"), width=18),
        Column(_("forwarded by the firm"), attrgetter("firm_approved_at"), width=18),
        Column(_("approved"), attrgetter("approved_at"), width=18),
        Column(_("certificate code"), lambda f: f.certificate_code or ""),
        Column(_("reason for the last return"), attrgetter("return_reason"), width=30),
    ]


def registry_status_columns(*, full_ids: bool) -> list[Column]:
    """Registry statuses, the abnormal list among them (rows: `RegistryStatus` with `manager`
    and `jurisdiction` selected). Bureau staff only: every reason is shown."""
    status = choice_labels(StatusChoice.choices)
    reason = choice_labels(StatusReason.choices)
    separator = gettext("; ")
    return [
        *manager_identity_columns(full_ids=full_ids, manager=_manager),
        Column(_("year"), attrgetter("year"), width=8),
        Column(_("registry status"), lambda s: status(s.status)),
        Column(_("reasons"), lambda s: separator.join(reason(r) for r in s.reasons), width=40),
        Column(_("jurisdiction"), lambda s: s.jurisdiction.name),
        Column(_("window closed on"), attrgetter("closed_on")),
        Column(_("last changed"), attrgetter("updated_at"), width=18),
    ]


def conduct_record_columns(*, full_ids: bool) -> list[Column]:
    """Conduct records (rows: `ConductRecord` with `manager` and `recorded_by` selected)."""
    kind = choice_labels(ConductRecord.Kind.choices)
    yes, no = gettext("Yes"), gettext("No")
    return [
        *manager_identity_columns(full_ids=full_ids, manager=_manager),
        Column(_("type"), lambda c: kind(c.kind)),
        Column(_("date"), attrgetter("occurred_on")),
        Column(_("summary"), attrgetter("summary"), width=40),
        Column(_("details"), attrgetter("details"), width=40),
        Column(_("in force from"), attrgetter("effective_from")),
        Column(_("in force until"), attrgetter("effective_until")),
        Column(_("public"), lambda c: yes if c.public else no, width=8),
        Column(_("recorded by"), lambda c: c.recorded_by.email if c.recorded_by else ""),
        Column(_("recorded"), attrgetter("recorded_at"), width=18),
    ]
