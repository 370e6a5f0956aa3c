#!/usr/bin/env bash
# `make loadtest`: Locust against gunicorn over a province (never part of `make test`).
#
# Starts PostgreSQL and Redis if they are not running, builds the province of `seed_scale` in its
# own database (portal_scale; once: later runs find it there), collects the static files and runs
# gunicorn as `make run` does (scripts/gunicorn.conf.py, DEBUG off) with the bare template view
# mounted, then tests/loadtest/run.py: LOAD lines per page under a mix of 50 users, THROUGHPUT
# lines per page as a share of the bare view. Stops what it started. The output is also kept in
# var/loadtest/last.txt.
#
# Environment: LOADTEST_MANAGERS (100000), LOADTEST_USERS (50), LOADTEST_SECONDS (60),
# LOADTEST_SATURATE_USERS (8), LOADTEST_SATURATE_SECONDS (8), LOADTEST_SKIP_THROUGHPUT=1,
# LOADTEST_ONLY (comma-separated parts of page names: only their throughput), and
# GUNICORN_WORKERS / GUNICORN_WORKER_CLASS / GUNICORN_THREADS (scripts/gunicorn.conf.py).
. "$(dirname "$0")/perf_lib.sh"

stop_on_exit_what_was_not_running
services_up
cd "$ROOT"
use_scale_database
mkdir -p "$VAR/loadtest"

log "Migrating the database $SCALE_DB"
DEBUG=true "$PY" manage.py migrate --noinput -v 0
log "The province (seed_scale; does nothing when it is there)"
DEBUG=true "$PY" manage.py seed_scale --managers "${LOADTEST_MANAGERS:-100000}" >/dev/null
ACCOUNTS="$VAR/loadtest/accounts.txt"
DEBUG=true "$PY" manage.py seed_scale --print-accounts > "$ACCOUNTS"
log "The dashboard's figures (overview.dashboard_refresh, as the nightly job computes them)"
"$PY" manage.py dashboard_refresh >/dev/null

production_env
export PORTAL_BARE_VIEW=1
# Every simulated user sends its own address in X-Forwarded-For, as behind the nginx of
# docs/deploy.md: per-address limits count each of them, not the load generator's one address.
export ALLAUTH_TRUSTED_PROXY_COUNT=1
# The public look-ups are limited per address; the load test looks up far more than a person.
export PUBLIC_LOOKUP_RATE="100000/m" PUBLIC_VERIFY_RATE="100000/m"
"$PY" manage.py collectstatic --noinput -v 0
"$PY" manage.py compilemessages -v 0 --ignore=.venv

PORT="$(free_port 0)"
PIDFILE="$VAR/run/loadtest-web.pid"
trap 'stop_gunicorn "$PIDFILE"; [ "$STARTED_PG" = 1 ] && pg_stop; [ "$STARTED_REDIS" = 1 ] && redis_stop; true' EXIT
log "gunicorn on 127.0.0.1:$PORT (scripts/gunicorn.conf.py; workers: ${GUNICORN_WORKERS:-2 x cores + 1}, ${GUNICORN_WORKER_CLASS:-sync})"
start_gunicorn "$PORT" "$PIDFILE"
log "machine: $(nproc) cores, $(uptime | sed 's/.*load average/load average/')"
LOADTEST_ACCOUNTS="$ACCOUNTS" "$PY" tests/loadtest/run.py "http://127.0.0.1:$PORT" \
    | tee "$VAR/loadtest/last.txt"
log "load after the run: $(uptime | sed 's/.*load average/load average/')"
