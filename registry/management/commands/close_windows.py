"""Close the filing windows by hand: give the year's registry status to every manager whose
deadline has passed and who has none yet (the daily job does this every morning).

    manage.py close_windows [--date YYYY-MM-DD] [--year YYYY] [--dry-run]
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from registry import status
from registry.management.commands.run_reminders import _DryRun, parse_date


class Command(BaseCommand):
    help = "Decide the year's registry status of managers whose filing deadline has passed."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="As on this day (YYYY-MM-DD); default today.")
        parser.add_argument("--year", type=int, help="Only this filing year.")
        parser.add_argument("--dry-run", action="store_true", help="Count only; change nothing.")

    def handle(self, *args, **options):
        day = parse_date(options["date"])
        try:
            with transaction.atomic():
                result = status.windows_close(day=day, year=options["year"])
                if options["dry_run"]:
                    raise _DryRun
        except _DryRun:
            pass
        label = " (dry run: nothing written or sent)" if options["dry_run"] else ""
        self.stdout.write(
            f"Windows closed as on {day.isoformat()}{label}: {result.scopes} scope(s)"
        )
        self.stdout.write(
            f"  registry statuses decided: {result.decided.get('normal', 0)} normal, "
            f"{result.decided.get('abnormal', 0)} abnormal"
        )
        for kind, count in sorted(result.notices.items()):
            self.stdout.write(f"  notices {kind}: {count} (e-mails queued)")
