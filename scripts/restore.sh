#!/usr/bin/env bash
# `make restore FILE=var/backups/portal-backup-….tar [FORCE=1]`: restore an archive of
# `make backup` into an empty installation, check every table's row count against the
# archive's manifest, then migrate (a backup of older code is brought up to this code).
#
# Empty: the database has no account (a new database, or one that was only migrated) and the
# upload directory holds no file. Anything else is refused unless FORCE=1, which drops the
# archive's tables before restoring them and writes the uploads over what is there.
# Stop the web server, the worker and beat first: nothing may write meanwhile.
#
# DATABASE_URL and PORTAL_MEDIA_ROOT from the environment win (an installation of your own);
# without them this is the local stack of `make run` (started if needed, stopped again after).
. "$(dirname "$0")/lib.sh"

FILE="${1:-${FILE:-}}"
[ -n "$FILE" ] || die "Which backup? make restore FILE=var/backups/portal-backup-….tar"
[ -f "$FILE" ] || die "No such file: $FILE"
FILE="$(cd "$(dirname "$FILE")" && pwd)/$(basename "$FILE")"
FORCE="${FORCE:-0}"

given_db="${DATABASE_URL:-}"
given_media="${PORTAL_MEDIA_ROOT:-}"
STARTED_PG=0
STARTED_REDIS=0
if [ -z "$given_db" ]; then
    stop_on_exit_what_was_not_running
    services_up
fi
MEDIA="${given_media:-${PORTAL_MEDIA_ROOT:-$VAR/media}}"
export PORTAL_MEDIA_ROOT="$MEDIA"
PG_RESTORE="${PG_RESTORE:-$PGBIN/pg_restore}"
[ -x "$PG_RESTORE" ] || PG_RESTORE="$(command -v pg_restore)" || die "pg_restore not found (Debian: postgresql-client-15)"
PSQL="$PGBIN/psql"
[ -x "$PSQL" ] || PSQL="$(command -v psql)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/portal-restore.XXXXXX")"
finish() {
    rm -rf "$WORK"
    [ "$STARTED_PG" = 1 ] && pg_stop
    [ "$STARTED_REDIS" = 1 ] && redis_stop
    true
}
trap finish EXIT

# The manifest and the dump come first in the archive; the uploads are read from it later,
# straight into their directory.
tar -xf "$FILE" -C "$WORK" --occurrence=1 manifest.json database.dump \
    || die "$FILE is not an archive of make backup"
"$PY" - "$WORK/manifest.json" <<'PYEOF' >&2
import json, sys
m = json.load(open(sys.argv[1]))
print(f"==> Backup of {m['created_at']} (commit {m['git_commit'][:12]}): "
      f"{sum(m['rows'].values())} rows in {len(m['rows'])} tables, "
      f"{m.get('media', {}).get('files', '?')} uploaded files")
PYEOF

# The libpq tools read where the database is from the same settings as the portal.
eval "$(cd "$ROOT" && "$PY" - <<'PYEOF'
import os, shlex
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
import django
django.setup()
from portal.management.commands.backup_database import libpq_env
for key, value in libpq_env().items():
    if key.startswith("PG"):
        print(f"export {key}={shlex.quote(value)}")
PYEOF
)"

has_users="$("$PSQL" -X -tAq -c "SELECT to_regclass('public.accounts_user') IS NOT NULL")" \
    || die "Cannot reach the database $PGDATABASE"
accounts=0
if [ "$has_users" = t ]; then
    accounts="$("$PSQL" -X -tAq -c "SELECT count(*) FROM accounts_user")"
fi
media_files=""
[ -d "$MEDIA" ] && media_files="$(find "$MEDIA" -type f -print -quit)"
if [ "$FORCE" != 1 ]; then
    [ "$accounts" = 0 ] || die "The database $PGDATABASE is not empty ($accounts accounts). Restore into an empty one, or FORCE=1 to replace it."
    [ -z "$media_files" ] || die "The upload directory $MEDIA is not empty. Restore into an empty one, or FORCE=1 to write over it."
fi

log "Restoring the database into $PGDATABASE"
started=$(date +%s%N)
# --clean --if-exists: what the archive holds is dropped first (a migrated empty database, or
# FORCE=1); --no-owner/--no-privileges: the tables belong to whoever restores them.
"$PG_RESTORE" --clean --if-exists --no-owner --no-privileges --exit-on-error \
    --jobs="${RESTORE_JOBS:-$(nproc)}" --dbname="$PGDATABASE" "$WORK/database.dump"
db_done=$(date +%s%N)

log "Restoring the uploads into $MEDIA"
mkdir -p "$MEDIA"
tar -xf "$FILE" -C "$MEDIA" --strip-components=1 media
media_done=$(date +%s%N)

cd "$ROOT"
"$PY" manage.py backup_check "$WORK/manifest.json"
"$PY" manage.py migrate --noinput -v 1
# The pages kept rendered are keyed by versions that start again from the backup's.
"$PY" manage.py forget_kept_pages
# pg_restore brings no planner statistics: without them the first pages on large tables would
# be slow until autovacuum gets to them.
log "Collecting the planner's statistics (ANALYZE)"
"$PSQL" -X -q -c "ANALYZE"
all_done=$(date +%s%N)
ms() { echo "$(((${2} - ${1}) / 1000000)) ms"; }
log "Restored: database $(ms "$started" "$db_done"), uploads $(ms "$db_done" "$media_done"), check, migrate and ANALYZE $(ms "$media_done" "$all_done")"
