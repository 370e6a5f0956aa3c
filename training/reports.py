"""The provider's upload of a completions file: a small file is imported in the request, a
large one (more rows than PROVIDER_REPORT_BACKGROUND_ROWS) by the worker, queued once the
report's row is committed. The page shows the worker's progress from that row."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from accounts.models import User
from core.broker import publish

from . import imports


def provider_report_upload(*, actor: User, content: bytes, file_name: str) -> imports.ImportResult:
    result = imports.provider_report_import(
        actor=actor,
        content=content,
        file_name=file_name,
        background_rows=settings.PROVIDER_REPORT_BACKGROUND_ROWS,
    )
    if result.queued:
        report_id = result.report.pk
        # A broker that is down or hung leaves the report queued instead of holding the page
        # (core.broker.publish gives up within CELERY_PUBLISH_TIMEOUT and never raises).
        transaction.on_commit(lambda: publish("training.process_provider_report", [report_id]))
    return result
