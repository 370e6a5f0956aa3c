"""PDF documents of the training app, rendered with WeasyPrint from HTML templates.

The CJK fonts come from Debian's fonts-noto-cjk, installed by the set-up scripts."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone, translation

from accounts.models import ManagerProfile

from . import selectors
from .models import StudyRecord


def transcript_pdf(*, manager: ManagerProfile, year: int) -> bytes:
    """The transcript (学时证明) of a year's counted hours, always in Chinese."""
    from weasyprint import HTML

    records = (
        StudyRecord.objects.filter(
            selectors.counting_records(), manager=manager, completed_on__year=year
        )
        .select_related("course", "course__provider")
        .order_by("completed_on", "pk")
    )
    with translation.override("zh-hans"):
        html = render_to_string(
            "training/transcript_pdf.html",
            {
                "manager": manager,
                "year": year,
                "records": records,
                "compliance": selectors.compliance_for(manager=manager, year=year),
                "issued": timezone.localtime(),
            },
        )
    return HTML(string=html).write_pdf()
