"""`make backup` then `make restore` into a fresh database and upload directory (a second
database on the test cluster, the scripts run as subprocesses pointed at it through
DATABASE_URL and PORTAL_MEDIA_ROOT): every table's row count, every sequence and the uploaded
files byte for byte are as they were; a database that is not empty is refused."""

import json
import subprocess
import tarfile
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.db import connection

from portal.management.commands.backup_database import table_counts
from registry import services
from tests import factories as f
from tests.workers import ROOT

from .conftest import YEAR, database_url

pytestmark = pytest.mark.django_db(transaction=True)

SEQUENCES = "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"


def run_script(name: str, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / name), *args],
        cwd=ROOT,
        env={**__import__("os").environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def fresh_database():
    """A new, empty database on the same cluster; dropped afterwards."""
    name = f"restore_{uuid.uuid4().hex[:10]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def connect(name: str):
    db = connection.settings_dict
    return psycopg2.connect(
        dbname=name, user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"]
    )


@pytest.fixture
def some_data(world):
    """A submitted filing with its five proofs, a conduct record with evidence, reminders:
    rows in most tables and a few files."""
    f.open_window(world.province, YEAR)
    filing = services.filing_start(actor=world.manager.user, year=YEAR)
    f.add_proofs(filing)
    services.filing_submit(actor=world.manager.user, filing=filing)
    f.conduct_record(world.other_manager, by=world.bureau)
    f.study_hours(world.manager, YEAR, 12)
    f.bulk_managers(20, "b", firm=world.firm)
    return world


def test_backup_restores_into_a_fresh_database_with_every_row_and_file(
    some_data, fresh_database, tmp_path
):
    media = Path(settings.MEDIA_ROOT)
    files = sorted(p for p in media.rglob("*") if p.is_file())
    assert len(files) >= 6

    backup = run_script(
        "backup.sh",
        env={
            "DATABASE_URL": database_url(),
            "PORTAL_MEDIA_ROOT": str(media),
            "BACKUP_DIR": str(tmp_path / "backups"),
        },
    )
    assert backup.returncode == 0, backup.stderr[-3000:]
    archive = Path(backup.stdout.strip().splitlines()[-1])
    assert archive.parent == tmp_path / "backups"
    assert archive.name.startswith("portal-backup-") and archive.suffix == ".tar"
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert [m.name for m in members[:2]] == ["manifest.json", "database.dump"]
    assert sorted(m.name for m in members[2:] if m.isfile()) == sorted(
        f"media/{p.relative_to(media)}" for p in files
    )
    with connection.cursor() as cursor:
        before = table_counts(cursor)
        cursor.execute(SEQUENCES)
        sequences = dict(cursor.fetchall())
    assert manifest["rows"] == before
    assert manifest["rows"]["accounts_managerprofile"] == 22
    assert manifest["media"]["files"] == len(files)
    assert manifest["migrations"]["latest"]["registry"]
    assert len(manifest["git_commit"]) == 40

    restored_media = tmp_path / "restored-media"
    target = {
        "DATABASE_URL": database_url().rsplit("/", 1)[0] + f"/{fresh_database}",
        "PORTAL_MEDIA_ROOT": str(restored_media),
    }
    restore = run_script("restore.sh", str(archive), env=target)
    assert restore.returncode == 0, restore.stdout[-2000:] + restore.stderr[-3000:]

    with connect(fresh_database) as restored, restored.cursor() as cursor:
        after = table_counts(cursor)
        cursor.execute(SEQUENCES)
        assert dict(cursor.fetchall()) == sequences  # numbers are never handed out twice
        cursor.execute(
            "SELECT registration_number FROM accounts_managerprofile WHERE id = %s",
            [some_data.manager.pk],
        )
        assert cursor.fetchone()[0] == some_data.manager.registration_number
    assert after == before
    for path in files:
        copy = restored_media / path.relative_to(media)
        assert copy.read_bytes() == path.read_bytes(), path

    # A second restore into what is now a database with accounts: refused, nothing changed.
    again = run_script("restore.sh", str(archive), env=target)
    assert again.returncode != 0
    assert "not empty" in again.stderr
