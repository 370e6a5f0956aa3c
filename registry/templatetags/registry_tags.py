"""Small pieces of the filing pages that a list repeats on every row: one Python call each
instead of an `{% include %}` (a template of its own per row cost more than the rest of the
row in the firm's queue)."""

from functools import cache

from django import template
from django.urls import reverse
from django.utils.formats import get_format
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.utils.translation import get_language, gettext

from core.dateformats import format_date
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


#: A number no filing has, reversed in a detail address and replaced by each row's own: one
#: `reverse` per page instead of one per row.
_PK = 987654321


@register.simple_tag
def firm_queue_rows(page, can_bulk):
    """The rows of the firm's review queue (registry/filing_firm_queue.html), from the tuples
    the view reads (pk, year, status, submitted_at, manager__real_name,
    manager__registration_number). Written here, not as a `{% for %}` of template tags: a
    queue page shows 50 rows, and the template engine spent most of the page's time on them
    (README, "Performance"). Every value from the database is escaped."""
    if not page.object_list:
        return format_html(
            '<tr><td colspan="7" class="text-muted">{}</td></tr>', gettext("No filings here.")
        )
    number, year, submitted, status = (
        escape(gettext(label)) for label in ("Registration number", "Year", "Submitted", "Status")
    )
    review = escape(gettext("Review"))
    language = get_language()
    detail = reverse("registry:firm_filing_detail", args=[_PK])
    when = get_format("DATETIME_FORMAT")
    rows = []
    for row in page.object_list:
        name = escape(row.manager__real_name)
        select = (
            '<td class="cell-select"><input type="checkbox" class="form-check-input"'
            f' name="filing" value="{row.pk}" aria-label="{name}"></td>'
            if can_bulk
            else ""
        )
        on = format_date(localtime(row.submitted_at), when) if row.submitted_at else ""
        rows.append(
            f'<tr>{select}<td class="cell-title">{name}</td>'
            f'<td data-label="{number}">{escape(row.manager__registration_number)}</td>'
            f'<td data-label="{year}">{row.year}</td>'
            f'<td class="text-nowrap" data-label="{submitted}">{escape(on)}</td>'
            f'<td data-label="{status}">{_status_badge(row.status, language)}</td>'
            '<td class="text-end cell-actions"><a class="btn btn-sm btn-outline-primary"'
            f' href="{escape(detail.replace(str(_PK), str(row.pk)))}">{review}</a></td></tr>'
        )
    return mark_safe("\n".join(rows))  # noqa: S308 (every value above is escaped)
