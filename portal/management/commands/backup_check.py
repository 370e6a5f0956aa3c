"""After a restore (scripts/restore.sh), before migrating:

    manage.py backup_check MANIFEST

compares the row count of every table named in the backup's manifest with the database's;
prints the differences and fails when there is one.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from .backup_database import table_counts


class Command(BaseCommand):
    help = "Check a restored database's row counts against the backup's manifest."

    def add_arguments(self, parser):
        parser.add_argument("manifest", type=Path)

    def handle(self, *args, manifest: Path, **options):
        expected = json.loads(manifest.read_text())["rows"]
        with connection.cursor() as cursor:
            found = table_counts(cursor)
        wrong = {
            table: (count, found.get(table))
            for table, count in expected.items()
            if found.get(table) != count
        }
        for table, (want, got) in sorted(wrong.items()):
            self.stderr.write(f"  {table}: {want} rows in the backup, {got} restored")
        if wrong:
            raise CommandError(f"{len(wrong)} table(s) differ from the backup's manifest.")
        self.stdout.write(
            f"restored: {sum(expected.values())} rows in {len(expected)} tables, as in the backup"
        )
