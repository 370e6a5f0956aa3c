"""The database half of `make backup` (scripts/backup.sh):

    manage.py backup_database DIR [--pg-dump PATH] [--git-commit SHA]

writes DIR/database.dump (`pg_dump --format=custom`) and DIR/manifest.json describing exactly
that dump: in one REPEATABLE READ, READ ONLY transaction it exports its snapshot, counts the rows
of every table and reads the applied migrations, and pg_dump dumps that same snapshot
(`--snapshot`), so that a restore can be checked against the manifest row for row
(`manage.py backup_check`) even though the portal kept writing meanwhile.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

#: Version of the manifest's layout.
FORMAT = 1


def table_counts(cursor) -> dict[str, int]:
    """Rows of every table of the public schema (the portal's, Django's, allauth's ...)."""
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    tables = [row[0] for row in cursor.fetchall()]
    counts = {}
    for table in tables:
        cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
        counts[table] = cursor.fetchone()[0]
    return counts


def migration_state(cursor) -> dict:
    """How many migrations are applied and the last one of each app."""
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    latest: dict[str, str] = {}
    applied = 0
    for app, name in cursor.fetchall():
        latest[app] = name  # names sort in order: 0001_, 0002_ ...
        applied += 1
    return {"applied": applied, "latest": latest}


def libpq_env() -> dict[str, str]:
    """The environment that points a libpq tool (pg_dump, pg_restore, psql) at the portal's
    database, from Django's settings (DATABASE_URL); the password never on a command line."""
    db = settings.DATABASES["default"]
    env = {**os.environ, "PGDATABASE": db["NAME"]}
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if db.get(key):
            env[var] = str(db[key])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    env["PGCONNECT_TIMEOUT"] = str(db.get("OPTIONS", {}).get("connect_timeout", 10))
    return env


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Command(BaseCommand):
    help = "Dump the database (one consistent snapshot) and write its manifest (make backup)."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument("--pg-dump", default="pg_dump", help="pg_dump of PostgreSQL ≥ 15")
        parser.add_argument("--git-commit", default="", help="the code's commit, for the record")

    def handle(self, *args, directory: Path, pg_dump: str, git_commit: str, **options):
        directory.mkdir(parents=True, exist_ok=True)
        dump = directory / "database.dump"
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, server_version = cursor.fetchone()
            created_at = dt.datetime.now(dt.UTC)
            rows = table_counts(cursor)
            migrations = migration_state(cursor)
            # The snapshot lives as long as this transaction: pg_dump runs inside it.
            result = subprocess.run(
                [
                    pg_dump,
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    f"--file={dump}",
                ],
                env=libpq_env(),
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise CommandError(f"pg_dump failed: {result.stderr.strip()}")
        manifest = {
            "format": FORMAT,
            "created_at": created_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "git_commit": git_commit or "unknown",
            "database": {
                "name": settings.DATABASES["default"]["NAME"],
                "server_version": server_version,
                "file": dump.name,
                "bytes": dump.stat().st_size,
                "sha256": sha256_of(dump),
            },
            "migrations": migrations,
            "rows": rows,
        }
        (directory / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
        )
        self.stdout.write(
            f"database {manifest['database']['name']}: {sum(rows.values())} rows in "
            f"{len(rows)} tables, {dump.stat().st_size} bytes"
        )
