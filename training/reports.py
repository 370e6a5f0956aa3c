"""The provider's upload of a completions file: a small file is imported in the request, a
large one (more rows than PROVIDER_REPORT_BACKGROUND_ROWS) by the worker, queued once the
report's row is committed. The page shows the worker's progress from that row."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from accounts.models import User

from . import imports, tasks


def provider_report_upload(*, actor: User, content: bytes, file_name: str) -> imports.ImportResult:
    result = imports.provider_report_import(
        actor=actor,
        content=content,
        file_name=file_name,
        background_rows=settings.PROVIDER_REPORT_BACKGROUND_ROWS,
    )
    if result.queued:
        report_id = result.report.pk
        # robust: a broker that is down leaves the report queued instead of failing the page.
        transaction.on_commit(lambda: tasks.process_provider_report.delay(report_id), robust=True)
    return result
