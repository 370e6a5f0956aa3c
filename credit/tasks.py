"""Celery tasks of the credit file: thin wrappers that take plain values."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from .scoring import scores_recompute


@shared_task(name="credit.recompute_daily")
def recompute_daily(day: str | None = None) -> dict:
    """Every manager's scores and the automatic listing rules (beat: daily, after the
    registry's daily job, `CREDIT_DAILY_HOUR`:`CREDIT_DAILY_MINUTE`)."""
    result = scores_recompute(today=dt.date.fromisoformat(day) if day else None)
    return {"scores": result.scores, "lines": result.lines, "listed": result.listed}


@shared_task(name="credit.recompute_manager")
def recompute_manager(manager_id: int) -> int:
    return scores_recompute(manager_ids=[manager_id]).scores
