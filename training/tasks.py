"""Celery tasks of the training app: thin wrappers that take ids and call the import code."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from core.broker import publish

from . import audits, imports


@shared_task(name="training.process_provider_report")
def process_provider_report(report_id: int) -> None:
    """Import a large completions file that the provider's upload queued (safe to run twice)."""
    imports.provider_report_process(report_id=report_id)


@shared_task(name="training.sweep_provider_reports")
def sweep_provider_reports() -> int:
    """Beat, every few minutes: publish again the large reports still queued a while after
    their upload (the task never reached the broker, or the broker lost it). The worker claims
    a report once (queued → running), so one published twice is imported once."""
    ids = imports.provider_reports_stale(now=timezone.now())
    for report_id in ids:
        if not publish(process_provider_report.name, [report_id]):
            break  # the broker is still away: the next beat tries again
    return len(ids)


@shared_task(name="training.run_audits")
def run_audits() -> dict:
    """Beat, daily: reject the audited records not answered by their deadline, then the
    scheduled audit draws (`audits.audits_daily`; safe to run twice)."""
    return audits.audits_daily(today=timezone.localdate())
