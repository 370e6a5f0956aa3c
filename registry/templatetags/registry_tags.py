"""Small pieces of the filing pages that a list repeats on every row: one Python call each
instead of an `{% include %}` (a template of its own per row cost more than the rest of the
row in the firm's queue)."""

from functools import cache

from django import template
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.utils.translation import get_language, gettext

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


@register.simple_tag
def firm_queue_rows(page, can_bulk):
    """The rows of the firm's review queue (registry/filing_firm_queue.html). Written here, not
    as a `{% for %}` of template tags: a queue page shows 50 rows, and the template engine spent
    most of the page's time on them (README, "Performance")."""
    if not page.object_list:
        return format_html(
            '<tr><td colspan="7" class="text-muted">{}</td></tr>', gettext("No filings here.")
        )
    labels = (
        gettext("Registration number"),
        gettext("Year"),
        gettext("Submitted"),
        gettext("Status"),
    )
    review = gettext("Review")
    language = get_language()
    rows = []
    for filing in page:
        manager = filing.manager
        select = (
            format_html(
                '<td class="cell-select"><input type="checkbox" class="form-check-input"'
                ' name="filing" value="{}" aria-label="{}"></td>',
                filing.pk,
                manager.real_name,
            )
            if can_bulk
            else ""
        )
        submitted = (
            date_format(localtime(filing.submitted_at), "DATETIME_FORMAT")
            if filing.submitted_at
            else ""
        )
        rows.append(
            format_html(
                "<tr>{}"
                '<td class="cell-title">{}</td>'
                '<td data-label="{}">{}</td>'
                '<td data-label="{}">{}</td>'
                '<td class="text-nowrap" data-label="{}">{}</td>'
                '<td data-label="{}">{}</td>'
                '<td class="text-end cell-actions"><a class="btn btn-sm btn-outline-primary"'
                ' href="{}">{}</a></td></tr>',
                select,
                manager.real_name,
                labels[0],
                manager.registration_number,
                labels[1],
                filing.year,
                labels[2],
                submitted,
                labels[3],
                _status_badge(filing.status, language),
                reverse("registry:firm_filing_detail", args=[filing.pk]),
                review,
            )
        )
    return mark_safe("\n".join(rows))  # each row made by format_html: escaped
