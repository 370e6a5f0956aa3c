"""Celery tasks of the training app: thin wrappers that take ids and call the import code."""

from __future__ import annotations

from celery import shared_task

from . import imports, reports


@shared_task(name="training.process_provider_report")
def process_provider_report(report_id: int) -> None:
    """Import a large completions file that the provider's upload queued (safe to run twice)."""
    imports.provider_report_process(report_id=report_id)


@shared_task(name="training.requeue_reports")
def requeue_reports() -> int:
    """Beat: publish again the large reports still waiting (their task never reached the
    broker, or the broker lost it). Processing claims a report, so a second run is harmless."""
    return reports.provider_reports_requeue()
