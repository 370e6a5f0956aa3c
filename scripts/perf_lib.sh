#!/usr/bin/env bash
# Helpers of the performance scripts (loadtest.sh, wrk.sh): the province-scale database, the
# production settings over plain http on 127.0.0.1, and a gunicorn of their own.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The province of `seed_scale` lives in a database of its own on the checkout's cluster, so that
# `make run` keeps its small demo. Its cache and rate limits use Redis database 2.
SCALE_DB="${SCALE_DB:-portal_scale}"

use_scale_database() {
    export DATABASE_URL="postgres://portal:$PG_PASSWORD@127.0.0.1:$PG_PORT/$SCALE_DB"
    export REDIS_URL="redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/2"
    export CACHE_KEY_PREFIX=scale
    PGPASSWORD="$PG_PASSWORD" "$PGBIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U portal -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname='$SCALE_DB'" | grep -q 1 \
        || PGPASSWORD="$PG_PASSWORD" "$PGBIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U portal "$SCALE_DB"
}

# What scripts/run.sh sets for gunicorn: DEBUG off, plain http on 127.0.0.1 only.
production_env() {
    export DEBUG=false
    export ALLOWED_HOSTS="127.0.0.1,localhost"
    export SECURE_SSL_REDIRECT=false SECURE_HSTS_SECONDS=0
    export SESSION_COOKIE_SECURE=false CSRF_COOKIE_SECURE=false
    export ACCOUNT_DEFAULT_HTTP_PROTOCOL=http
    # No access log: writing it is not what is measured. Workers are not replaced during a
    # run: at 2,000 requests a second the bare view would restart one every 2.5 s (about a
    # second of CPU to import Django), and measure that instead.
    export GUNICORN_ACCESS_LOG="" GUNICORN_MAX_REQUESTS="${GUNICORN_MAX_REQUESTS:-0}"
}

# start_gunicorn <port> <pidfile>: gunicorn in the background, waits until /healthz answers.
start_gunicorn() {
    local port="$1" pidfile="$2"
    "$VENV/bin/gunicorn" -c "$ROOT/scripts/gunicorn.conf.py" --bind "127.0.0.1:$port" \
        --log-level warning &
    GUNICORN_PID=$!
    echo "$GUNICORN_PID" > "$pidfile"
    for _ in $(seq 150); do
        curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && return 0
        kill -0 "$GUNICORN_PID" 2>/dev/null || die "gunicorn did not start"
        sleep 0.2
    done
    die "gunicorn did not answer on 127.0.0.1:$port"
}

stop_gunicorn() {
    local pidfile="$1"
    if [ -n "${GUNICORN_PID:-}" ] && kill -0 "$GUNICORN_PID" 2>/dev/null; then
        kill -TERM "$GUNICORN_PID" 2>/dev/null || true
        wait "$GUNICORN_PID" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}
