"""The provider's upload of a completions file: a small file is imported in the request, a
large one (more rows than PROVIDER_REPORT_BACKGROUND_ROWS) by the worker, queued once the
report's row is committed. The page shows the worker's progress from that row."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from core.broker import publish

from . import imports
from .models import ProviderReport


def provider_report_upload(*, actor: User, content: bytes, file_name: str) -> imports.ImportResult:
    result = imports.provider_report_import(
        actor=actor,
        content=content,
        file_name=file_name,
        background_rows=settings.PROVIDER_REPORT_BACKGROUND_ROWS,
    )
    if result.queued:
        report_id = result.report.pk
        # A broker that is down leaves the report queued (the page answers at once); the beat's
        # `training.requeue_reports` publishes it again.
        transaction.on_commit(lambda: publish("training.process_provider_report", args=[report_id]))
    return result


#: A queued report older than this was not published (or the broker lost it): publish it again.
REQUEUE_AFTER = dt.timedelta(minutes=2)


def provider_reports_requeue() -> int:
    """Publish again every report still queued after `REQUEUE_AFTER`; returns how many."""
    ids = list(
        ProviderReport.objects.filter(
            status=ProviderReport.Status.QUEUED,
            created_at__lt=timezone.now() - REQUEUE_AFTER,
        ).values_list("pk", flat=True)
    )
    for report_id in ids:
        publish("training.process_provider_report", args=[report_id])
    return len(ids)
