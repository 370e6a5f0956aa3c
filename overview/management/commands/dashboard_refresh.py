"""Compute the bureau dashboard's figures now (the nightly Celery beat task does the same).

manage.py dashboard_refresh                 (this year and the last)
manage.py dashboard_refresh --year 2026
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils import timezone

from overview import dashboard


class Command(BaseCommand):
    help = "Compute the bureau dashboard's figures (this year and the last, or --year)."

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, action="append", help="A year (repeatable).")

    def handle(self, *args, year: list[int] | None = None, **options):
        today = timezone.localdate()
        for y in year or dashboard.years_to_refresh(today):
            refresh = dashboard.dashboard_refresh(year=y, today=today)
            self.stdout.write(f"{y}: {refresh.duration_ms} ms")
