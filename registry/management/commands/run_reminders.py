"""The daily job of the filing cycle, by hand: the same as Celery beat runs at 09:00.

    manage.py run_reminders [--date YYYY-MM-DD] [--dry-run]

It closes the windows whose deadline has passed (the year's registry status), creates the
reminders due on the date, then sends their e-mails from this process and prints, per kind, how
many it created and sent. E-mails that fail are left to the Celery workers, which try them again
with back-off. With --dry-run everything is computed in a transaction that is rolled back:
nothing is written, nothing is sent.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from notifications.models import Notice
from notifications.services import CHUNK, emails_publish, send_notice_batch
from registry import jobs


class _DryRun(Exception):
    pass


def parse_date(value: str | None) -> dt.date:
    if not value:
        return timezone.localdate()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date must be YYYY-MM-DD, not {value!r}.") from None


class Command(BaseCommand):
    help = "Close the windows whose deadline passed and send the reminders due (the daily job)."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Run as on this day (YYYY-MM-DD); default today.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be done; change nothing."
        )

    def handle(self, *args, **options):
        day = parse_date(options["date"])
        dry = options["dry_run"]
        try:
            with transaction.atomic():
                closed, reminded = jobs.daily_run(day=day, queue=False)
                if dry:
                    raise _DryRun
        except _DryRun:
            pass
        label = " (dry run: nothing written or sent)" if dry else ""
        self.stdout.write(f"Daily job for {day.isoformat()}{label}")
        self.stdout.write(
            f"  registry statuses decided: {closed.decided.get('normal', 0)} normal, "
            f"{closed.decided.get('abnormal', 0)} abnormal"
        )
        created = {**closed.notices, **reminded.created}
        sent_by_kind: dict[str, int] = {}
        failed: list[int] = []
        to_send = sorted(set(closed.to_send) | set(reminded.to_send))
        if not dry:
            for start in range(0, len(to_send), CHUNK):
                sent, failures = send_notice_batch(to_send[start : start + CHUNK])
                failed += failures
                for kind in Notice.objects.filter(pk__in=sent).values_list("kind", flat=True):
                    sent_by_kind[kind] = sent_by_kind.get(kind, 0) + 1
        self.stdout.write(f"  {'kind':<24} {'created':>8} {'sent':>8}")
        for kind in jobs.JOB_KINDS:
            self.stdout.write(
                f"  {kind:<24} {created.get(kind, 0):>8} {sent_by_kind.get(kind, 0):>8}"
            )
        earlier = len(to_send) - sum(created.values())
        if earlier > 0:
            self.stdout.write(f"  e-mails of earlier runs queued again: {earlier}")
        if failed:
            self.stdout.write(
                self.style.WARNING(
                    f"  {len(failed)} e-mail(s) failed; the workers try them again with back-off "
                    "(see Notices in the admin for the error)."
                )
            )
            if not emails_publish(sorted(failed)):
                self.stdout.write(
                    self.style.WARNING("  could not queue the retry; the sweep will send them.")
                )
