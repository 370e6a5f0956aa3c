"""Small pieces of the filing pages that a list repeats on every row: one Python call each
instead of an `{% include %}` (a template of its own per row cost more than the rest of the
row in the firm's queue)."""

from functools import cache

from django import template
from django.utils.html import format_html
from django.utils.translation import get_language

from registry.models import AnnualFiling

register = template.Library()

_BADGE = {"approved": "text-bg-success", "returned": "text-bg-danger", "draft": "text-bg-secondary"}


@register.simple_tag
def filing_status(filing):
    """The status of a filing as a badge (registry/_filing_status.html is this tag)."""
    return _status_badge(filing.status, get_language())


@cache
def _status_badge(status: str, language: str | None) -> str:
    """The badge of a status in a language: made once per process (a list repeats a few
    statuses on every row, and translating a label each time was most of a row's cost)."""
    return format_html(
        '<span class="badge {}" data-testid="filing-status">{}</span>',
        _BADGE.get(status, "text-bg-warning"),
        AnnualFiling.Status(status).label if status in AnnualFiling.Status.values else status,
    )
