"""How a filing's frozen snapshot reads on a page (the firm's detail and the bureau's admin)."""

from __future__ import annotations

from decimal import Decimal

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from accounts.models import Education, ProfessionalTitle, SkillLevel
from core.dateformats import format_date


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or "—"


def snapshot_rows(snapshot: dict) -> list[tuple[str, str]]:
    profile = snapshot.get("profile") or {}
    firm = snapshot.get("firm") or {}
    employment = snapshot.get("employment") or {}
    return [
        (_("Real name"), profile.get("real_name", "")),
        (_("ID number"), profile.get("masked_id_number", "")),
        (_("Registration number"), profile.get("registration_number") or "—"),
        (_("Mobile phone"), profile.get("phone", "")),
        (_("Highest education"), _label(Education, profile.get("education"))),
        (_("Professional title"), _label(ProfessionalTitle, profile.get("title"))),
        (_("Skill level / practice certificate"), _label(SkillLevel, profile.get("skill_level"))),
        (_("Certificate number"), profile.get("certificate_number") or "—"),
        (_("Firm"), firm.get("name", "")),
        (_("Unified social credit code"), firm.get("credit_code", "")),
        (_("Position"), employment.get("position") or "—"),
        (_("Employed since"), employment.get("start_date") or "—"),
    ]


def snapshot_compliance(snapshot: dict) -> dict:
    """The CE summary as frozen, with decimals back as numbers."""
    c = dict(snapshot.get("compliance") or {})
    for key in ("required_year", "required_cycle", "hours_year", "hours_cycle", "hours_needed"):
        if c.get(key) is not None:
            c[key] = Decimal(c[key])
    return c


def short_time(value) -> str:
    """A local time as date over time (2026-12-01 / 05:04): narrow enough for the list."""
    if not value:
        return "-"
    value = timezone.localtime(value)
    # Plain formatting, escaped by hand: the list calls this a few hundred times a page.
    return mark_safe(  # noqa: S308 (only digits and the ISO time)
        f'<time datetime="{escape(value.isoformat())}">'
        f"{format_date(value, 'Y-m-d')}<br>{format_date(value, 'H:i')}</time>"
    )
