"""Celery tasks of the top layer: thin wrappers that take plain values."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from . import dashboard


@shared_task(name="overview.dashboard_refresh")
def dashboard_refresh(year: int | None = None) -> dict:
    """The nightly computation of the dashboard's figures (Celery beat): this year and the
    last, or one year given."""
    today = timezone.localdate()
    years = [year] if year else dashboard.years_to_refresh(today)
    return {str(y): dashboard.dashboard_refresh(year=y, today=today).duration_ms for y in years}
