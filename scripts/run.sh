#!/usr/bin/env bash
# `make run`: set up what is missing, start PostgreSQL and Redis, migrate, load the demo data and
# serve the portal as production does: gunicorn (scripts/gunicorn.conf.py) with DEBUG off and the
# collected static files served by WhiteNoise, a Celery worker and Celery beat. Only what plain
# http on 127.0.0.1 needs is relaxed (no HTTPS redirect, no HSTS, cookies without `Secure`, the
# local host names). Ctrl-C stops all of them.
#
# `make dev` (`run.sh dev`): the same, but Django's autoreloading development server with DEBUG on.
#
# The pid of each process started is kept in var/run/web.pid, worker.pid and beat.pid.
. "$(dirname "$0")/lib.sh"

MODE="${1:-run}"
[ "$MODE" = run ] || [ "$MODE" = dev ] || die "usage: run.sh [run|dev]"

services_up
cd "$ROOT"

if [ "$MODE" = dev ]; then
    export DEBUG=true
else
    # Production settings; var/local.env says DEBUG=true for manage.py by hand, this wins.
    export DEBUG=false
    export ALLOWED_HOSTS="127.0.0.1,localhost"
    export SECURE_SSL_REDIRECT=false SECURE_HSTS_SECONDS=0
    export SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false
    export ACCOUNT_DEFAULT_HTTP_PROTOCOL=http
fi

log "Migrating the database"
"$PY" manage.py migrate --noinput -v 0
# Content hashes of files stored before hashing at upload (batched; nothing to do afterwards).
"$PY" manage.py hash_stored_files -v 0 >/dev/null
"$PY" manage.py compilemessages -v 0 --ignore=.venv
if [ "$MODE" = run ]; then
    log "Collecting the static files (var/staticfiles, compressed, with a manifest)"
    "$PY" manage.py collectstatic --noinput -v 0
fi
log "Loading the demo data"
# The demo accounts have a published password: the command runs only with DEBUG on.
DEBUG=true "$PY" manage.py seed_demo

PIDS=()
PIDFILES=()
started() {  # started <name> <pid>: remember the process and write var/run/<name>.pid
    PIDS+=("$2")
    PIDFILES+=("$VAR/run/$1.pid")
    echo "$2" > "$VAR/run/$1.pid"
}
cleanup() {
    trap - INT TERM EXIT
    log "Stopping the portal"
    for pid in "${PIDS[@]}"; do
        # runserver's autoreloader serves from a child process: stop it too.
        pkill -TERM -P "$pid" 2>/dev/null || true
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -f "${PIDFILES[@]}"
    services_down
}
trap cleanup INT TERM EXIT

if [ "$MODE" = dev ]; then
    "$PY" manage.py runserver "127.0.0.1:$WEB_PORT" &
    started web $!
else
    GUNICORN_ACCESS_LOG="${GUNICORN_ACCESS_LOG:-$VAR/log/web-access.log}" \
        "$VENV/bin/gunicorn" -c "$ROOT/scripts/gunicorn.conf.py" --bind "127.0.0.1:$WEB_PORT" &
    started web $!
fi
"$VENV/bin/celery" -A portal worker --loglevel=INFO --concurrency=2 \
    --logfile="$VAR/log/celery-worker.log" &
started worker $!
"$VENV/bin/celery" -A portal beat --loglevel=INFO --schedule="$VAR/run/celerybeat-schedule" \
    --pidfile="" --logfile="$VAR/log/celery-beat.log" &
started beat $!

# Wait until the web server answers before saying where it is.
for _ in $(seq 100); do
    "$PY" - "$WEB_PORT" <<'PYEOF' 2>/dev/null && break
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=2)
PYEOF
    kill -0 "${PIDS[0]}" 2>/dev/null || die "The web server did not start"
    sleep 0.3
done
DEBUG=true "$PY" manage.py seed_demo --accounts
if [ "$MODE" = run ]; then
    SERVED="gunicorn, DEBUG off (make dev: the development server with DEBUG on)"
else
    SERVED="Django's development server, DEBUG on, reloading on changes"
fi
cat <<MSG

  The portal runs at   http://127.0.0.1:$WEB_PORT
                       ($SERVED)
  Health:              http://127.0.0.1:$WEB_PORT/healthz
  Admin (bureau):      http://127.0.0.1:$WEB_PORT/admin/
  Logs:                var/log/   (e-mails are printed by the web server and the worker)

  Press Ctrl-C to stop the web server, the worker, beat, PostgreSQL and Redis.

MSG
wait -n "${PIDS[@]}" || true
