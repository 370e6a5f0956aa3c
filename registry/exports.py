"""The columns of the registry's exported lists (filings, registry statuses, conduct records):
one definition for the admin's exports and the firm's (core.exports)."""

from __future__ import annotations

from operator import attrgetter

from django.utils.translation import gettext_lazy as _

from accounts.exports import manager_identity_columns
from core.exports import Column

_manager = attrgetter("manager")


def filing_columns(*, full_ids: bool) -> list[Column]:
    """Filings (rows: `AnnualFiling` with `manager`, `firm` and `jurisdiction` selected)."""
    return [
        *manager_identity_columns(full_ids=full_ids, manager=_manager),
        Column(_("year"), attrgetter("year"), width=8),
        Column(_("firm"), lambda f: f.firm.name if f.firm else "", width=30),
        Column(_("jurisdiction"), lambda f: f.jurisdiction.name if f.jurisdiction else ""),
        Column(_("status"), lambda f: f.get_status_display(), width=16),
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
    return [
        *manager_identity_columns(full_ids=full_ids, manager=_manager),
        Column(_("year"), attrgetter("year"), width=8),
        Column(_("registry status"), lambda s: s.get_status_display()),
        Column(_("reasons"), attrgetter("reasons_text"), width=40),
        Column(_("jurisdiction"), lambda s: s.jurisdiction.name),
        Column(_("window closed on"), attrgetter("closed_on")),
        Column(_("last changed"), attrgetter("updated_at"), width=18),
    ]


def conduct_record_columns(*, full_ids: bool) -> list[Column]:
    """Conduct records (rows: `ConductRecord` with `manager` and `recorded_by` selected)."""
    return [
        *manager_identity_columns(full_ids=full_ids, manager=_manager),
        Column(_("type"), lambda c: c.get_kind_display()),
        Column(_("date"), attrgetter("occurred_on")),
        Column(_("summary"), attrgetter("summary"), width=40),
        Column(_("details"), attrgetter("details"), width=40),
        Column(_("in force from"), attrgetter("effective_from")),
        Column(_("in force until"), attrgetter("effective_until")),
        Column(_("public"), lambda c: _("Yes") if c.public else _("No"), width=8),
        Column(_("recorded by"), lambda c: c.recorded_by.email if c.recorded_by else ""),
        Column(_("recorded"), attrgetter("recorded_at"), width=18),
    ]
