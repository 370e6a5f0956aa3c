#!/usr/bin/env bash
# `make backup`: one archive BACKUP_DIR/portal-backup-<UTC time>.tar (default var/backups/) with
#   manifest.json   time, git commit, migration state, row count of every table, uploads
#   database.dump   pg_dump --format=custom of one snapshot (the one the manifest counted)
#   media/…         the private uploads (PORTAL_MEDIA_ROOT), read after the dump
# and keeps the newest BACKUP_KEEP archives (default 14; 0 keeps all). The uploads go straight
# into the archive (no temporary copy): the disk needs room for one archive, not two.
#
# DATABASE_URL and PORTAL_MEDIA_ROOT from the environment win (an installation of your own);
# without them this is the local stack of `make run` (started if needed, stopped again after).
. "$(dirname "$0")/lib.sh"

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
BACKUP_DIR="${BACKUP_DIR:-$VAR/backups}"
BACKUP_KEEP="${BACKUP_KEEP:-14}"
PG_DUMP="${PG_DUMP:-$PGBIN/pg_dump}"
[ -x "$PG_DUMP" ] || PG_DUMP="$(command -v pg_dump)" || die "pg_dump not found (Debian: postgresql-client-15)"

mkdir -p "$BACKUP_DIR"
chmod 700 "$BACKUP_DIR"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
archive="$BACKUP_DIR/portal-backup-$stamp.tar"
WORK="$(mktemp -d "$BACKUP_DIR/.portal-backup-$stamp.XXXXXX")"
finish() {
    rm -rf "$WORK"
    [ "$STARTED_PG" = 1 ] && pg_stop
    [ "$STARTED_REDIS" = 1 ] && redis_stop
    true
}
trap finish EXIT
umask 077

commit="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
log "Dumping the database"
(cd "$ROOT" && "$PY" manage.py backup_database "$WORK" --pg-dump "$PG_DUMP" --git-commit "$commit")

# After the dump: every file a dumped row names is in the archive (uploads are never changed in
# place; a file uploaded meanwhile is there without its row, which is harmless).
log "Packing the uploads in $MEDIA"
mkdir -p "$MEDIA"
files="$(find "$MEDIA" -type f | wc -l)"
bytes="$(du -sb "$MEDIA" | cut -f1)"
"$PY" - "$WORK/manifest.json" "$files" "$bytes" <<'PYEOF'
import json, sys
path, files, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
manifest = json.load(open(path))
manifest["media"] = {"directory": "media", "files": files, "bytes": size}
open(path, "w").write(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
PYEOF
tar -cf "$WORK/archive.tar" -C "$WORK" manifest.json database.dump \
    -C "$MEDIA" --transform='s,^\.,media,' .
mv "$WORK/archive.tar" "$archive"  # complete or absent: never half an archive under its name
log "Backup written: $archive ($(du -h "$archive" | cut -f1))"

if [ "$BACKUP_KEEP" -gt 0 ] 2>/dev/null; then
    ls -1t "$BACKUP_DIR"/portal-backup-*.tar 2>/dev/null | tail -n +"$((BACKUP_KEEP + 1))" \
        | while read -r old; do log "Removing the old backup $old"; rm -f -- "$old"; done
fi
echo "$archive"
