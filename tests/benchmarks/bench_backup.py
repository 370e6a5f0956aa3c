"""Benchmark of `make backup` and `make restore` at the size of a large prefecture (not a test).

    python tests/benchmarks/bench_backup.py      (or `make bench`, which runs every bench_*.py)

Builds the scratch database of bench_registry.py (100,000 managers, their study records, 50,000
filings with review events, 200 conduct records), runs that benchmark's daily jobs on it so that
the notices, statuses and credit-record entries of a first quarter exist too, puts
BENCH_MEDIA_MB (default 500) of incompressible files in a scratch upload directory, then runs
scripts/backup.sh and scripts/restore.sh (into a second scratch database and directory) as an
operator would, and prints how long each took, the archive's size and the rows restored.

The uploads of a real installation are far larger (five proofs per filing, phone photos of 1 to
3 MB): the README extrapolates from the MB/s measured here. Only BENCH lines go to stdout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from django.db import connection  # noqa: E402

from tests.benchmarks import bench_registry as registry  # noqa: E402 (sets Django up)
from tests.benchmarks._common import bench, log, scratch_database  # noqa: E402

MEDIA_MB = int(os.environ.get("BENCH_MEDIA_MB", "500"))
FILE_KB = 500


def database_url(name: str) -> str:
    db = connection.settings_dict
    return (
        f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}"
        f"@{db['HOST']}:{db['PORT']}/{name}"
    )


def fill_media(media: Path) -> int:
    """MEDIA_MB of random (incompressible, like photos) files in dated folders."""
    count = MEDIA_MB * 1024 // FILE_KB
    for i in range(count):
        folder = media / "proofs" / f"2027/{1 + i % 3:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{i:06d}.jpg").write_bytes(os.urandom(FILE_KB * 1024))
    return count


def run(script: str, *args: str, env: dict) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / script), *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    for line in result.stderr.splitlines():
        if "==>" in line or "ERROR" in line:
            log(f"  {script}: {line.strip()}")
    if result.returncode != 0:
        raise SystemExit(f"{script} failed:\n{result.stdout}\n{result.stderr}")
    return seconds


def main() -> int:
    from registry import jobs

    with scratch_database() as scratch, tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        registry.build()
        jobs.daily_run(day=registry.REMINDER_DAY, queue=False)
        jobs.daily_run(day=registry.CLOSING_DAY, queue=False)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_database_size(current_database())")
            (size,) = cursor.fetchone()
        log(f"built in {time.perf_counter() - started:.0f} s; database {size / 2**20:,.0f} MB")
        media = Path(tmp) / "media"
        log(f"{MEDIA_MB} MB of uploads ({FILE_KB} kB files)")
        files = fill_media(media)

        seconds = run(
            "backup.sh",
            env={
                "DATABASE_URL": database_url(scratch),
                "PORTAL_MEDIA_ROOT": str(media),
                "BACKUP_DIR": str(Path(tmp) / "backups"),
                "BACKUP_KEEP": "0",
            },
        )
        archive = next((Path(tmp) / "backups").glob("portal-backup-*.tar"))
        with tarfile.open(archive) as tar:
            manifest = json.load(tar.extractfile("manifest.json"))
            dump_bytes = tar.getmember("database.dump").size
        rows = sum(manifest["rows"].values())
        bench("backup_100k", seconds, "s")
        bench("backup_100k_dump", dump_bytes / 2**20, "MB", ".1f")
        log(f"  {rows:,} rows; archive {archive.stat().st_size / 2**20:,.0f} MB, {files} files")

        target = f"{scratch}_restore"
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{target}"')
        try:
            seconds = run(
                "restore.sh",
                str(archive),
                env={
                    "DATABASE_URL": database_url(target),
                    "PORTAL_MEDIA_ROOT": str(Path(tmp) / "restored-media"),
                },
            )
            bench("restore_100k", seconds, "s")
            bench("restore_100k_rows", rows, "rows", "d")
            bench("backup_media_mb", MEDIA_MB, "MB", "d")
        finally:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
