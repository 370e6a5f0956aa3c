#!/usr/bin/env bash
# `make run`: set up what is missing, start PostgreSQL and Redis, migrate, load the demo data and
# run the web server, a Celery worker and Celery beat together. Ctrl-C stops all of them.
. "$(dirname "$0")/lib.sh"

services_up
cd "$ROOT"
export DEBUG="${DEBUG:-true}"
log "Migrating the database"
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py compilemessages -v 0 --ignore=.venv
log "Loading the demo data"
"$PY" manage.py seed_demo

PIDS=()
cleanup() {
    trap - INT TERM EXIT
    log "Stopping the portal"
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -f "$VAR/run/web.pid" "$VAR/run/worker.pid" "$VAR/run/beat.pid"
    services_down
}
trap cleanup INT TERM EXIT

"$PY" manage.py runserver "127.0.0.1:$WEB_PORT" --noreload &
PIDS+=($!)
echo $! > "$VAR/run/web.pid"  # `make stop` stops what this checkout started, by these files
"$VENV/bin/celery" -A portal worker --loglevel=INFO --concurrency=2 \
    --logfile="$VAR/log/celery-worker.log" &
PIDS+=($!)
echo $! > "$VAR/run/worker.pid"
"$VENV/bin/celery" -A portal beat --loglevel=INFO --schedule="$VAR/run/celerybeat-schedule" \
    --pidfile="" --logfile="$VAR/log/celery-beat.log" &
PIDS+=($!)
echo $! > "$VAR/run/beat.pid"

sleep 2
"$PY" manage.py seed_demo --accounts
cat <<MSG

  The portal runs at   http://127.0.0.1:$WEB_PORT
  Health:              http://127.0.0.1:$WEB_PORT/healthz
  Admin (bureau):      http://127.0.0.1:$WEB_PORT/admin/
  Logs:                var/log/   (e-mails are printed by the web server and the worker)

  Press Ctrl-C to stop the web server, the worker, beat, PostgreSQL and Redis.

MSG
wait -n "${PIDS[@]}" || true
