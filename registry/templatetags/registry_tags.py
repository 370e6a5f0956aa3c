"""Small pieces of the filing pages that a list repeats on every row: one Python call each
instead of an `{% include %}` (a template of its own per row cost more than the rest of the
row in the firm's queue)."""

from django import template
from django.utils.html import format_html

register = template.Library()

_BADGE = {"approved": "text-bg-success", "returned": "text-bg-danger", "draft": "text-bg-secondary"}


@register.simple_tag
def filing_status(filing):
    """The status of a filing as a badge (registry/_filing_status.html is this tag)."""
    return format_html(
        '<span class="badge {}" data-testid="filing-status">{}</span>',
        _BADGE.get(filing.status, "text-bg-warning"),
        filing.get_status_display(),
    )
