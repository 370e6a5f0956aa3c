"""Celery tasks of the registry: thin wrappers that take plain values and call the jobs."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from . import jobs, status, triage


@shared_task(name="registry.run_daily")
def run_daily(day: str | None = None) -> dict:
    """The daily job of Celery beat (09:00 Asia/Shanghai): close the windows whose deadline
    has passed, then send the reminders due today."""
    today = dt.date.fromisoformat(day) if day else timezone.localdate()
    closed, reminded = jobs.daily_run(day=today)
    return {
        "day": today.isoformat(),
        "statuses": dict(closed.decided),
        "reminders": dict(reminded.created),
    }


@shared_task(name="registry.close_windows")
def close_windows(day: str | None = None, year: int | None = None) -> dict:
    """Close the windows whose deadline has passed by `day` (default today), by hand."""
    today = dt.date.fromisoformat(day) if day else timezone.localdate()
    return dict(status.windows_close(day=today, year=year).decided)


@shared_task(name="registry.bulk_approval_run")
def bulk_approval_run(job_id: int) -> dict:
    """Approve the filings of a bulk approval job (see `triage.bulk_approval_run`)."""
    job = triage.bulk_approval_run(job_id=job_id)
    return {"job": job.pk, "state": job.state}
