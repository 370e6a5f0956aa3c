#!/usr/bin/env bash
# The issue's measurement from outside: wrk, 8 connections, against the bare template view, a
# manager's /me/ and a firm reviewer's queue through one gunicorn (DEBUG off,
# scripts/gunicorn.conf.py), one after the other.
#
#   bash scripts/wrk.sh [demo|scale] [seconds per URL, default 20]
#
# demo: the database of `make run` with its demo data (manager1@, firm1@demo.example.cn);
# scale: seed_scale's province (scripts/loadtest.sh builds it), the first manager it lists (or
# WRK_EMAIL) and the reviewer of the largest firm.
# Prints `WRK <url> <req/s> <p50 ms> <p99 ms>` lines. Stops what it started.
. "$(dirname "$0")/perf_lib.sh"

DATA="${1:-demo}"
SECONDS_EACH="${2:-20}"
command -v wrk >/dev/null || die "wrk is missing: apt-get install wrk"

stop_on_exit_what_was_not_running
services_up
cd "$ROOT"
if [ "$DATA" = scale ]; then
    use_scale_database
    ACCOUNTS="$(DEBUG=true "$PY" manage.py seed_scale --print-accounts 2>/dev/null)"
    EMAIL="${WRK_EMAIL:-$(awk '$1=="manager" && !found {print $2; found=1}' <<<"$ACCOUNTS")}"
    FIRM_EMAIL="$(awk '$1=="firm" && !found {print $2; found=1}' <<<"$ACCOUNTS")"  # the largest
    PASSWORD="$(awk '$1=="password" {print $2}' <<<"$ACCOUNTS")"
    [ -n "$EMAIL" ] || die "No scale data: run make loadtest (or manage.py seed_scale) first"
else
    DEBUG=true "$PY" manage.py migrate --noinput -v 0
    DEBUG=true "$PY" manage.py seed_demo >/dev/null
    EMAIL=manager1@demo.example.cn
    FIRM_EMAIL=firm1@demo.example.cn
    PASSWORD=Demo-2026-portal
fi
production_env
export PORTAL_BARE_VIEW=1
"$PY" manage.py collectstatic --noinput -v 0
"$PY" manage.py compilemessages -v 0 --ignore=.venv

PORT="$(free_port 0)"
PIDFILE="$VAR/run/wrk-web.pid"
trap 'stop_gunicorn "$PIDFILE"; [ "$STARTED_PG" = 1 ] && pg_stop; [ "$STARTED_REDIS" = 1 ] && redis_stop; true' EXIT
log "gunicorn on 127.0.0.1:$PORT ($(GUNICORN_WORKERS= "$PY" -c 'import multiprocessing as m; print(2*m.cpu_count()+1)') workers unless GUNICORN_WORKERS says otherwise)"
start_gunicorn "$PORT" "$PIDFILE"
COOKIE="$("$PY" tests/loadtest/session_cookie.py "http://127.0.0.1:$PORT" "$EMAIL" "$PASSWORD")"
FIRM_COOKIE="$("$PY" tests/loadtest/session_cookie.py "http://127.0.0.1:$PORT" "$FIRM_EMAIL" "$PASSWORD")"
log "load: $(uptime)"

measure() {  # measure <path> [cookie]
    local path="$1" out
    # A short warm-up first: every worker has its connections and templates loaded.
    wrk -t2 -c8 -d3s ${2:+-H "Cookie: $2"} "http://127.0.0.1:$PORT$path" >/dev/null
    out="$(wrk -t2 -c8 -d"${SECONDS_EACH}s" --latency ${2:+-H "Cookie: $2"} "http://127.0.0.1:$PORT$path")"
    echo "$out" >&2
    local rps p50 p99 non2xx
    rps="$(awk '/^Requests\/sec/{print $2}' <<<"$out")"
    p50="$(awk '$1=="50%"{print $2}' <<<"$out")"
    p99="$(awk '$1=="99%"{print $2}' <<<"$out")"
    non2xx="$(awk '/Non-2xx/{print $NF}' <<<"$out")"
    echo "WRK $path $rps req/s p50 $p50 p99 $p99 non-2xx ${non2xx:-0}"
}
measure /__bare__/
measure /me/ "$COOKIE"
measure /firm/filings/ "$FIRM_COOKIE"
