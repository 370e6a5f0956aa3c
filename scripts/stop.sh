#!/usr/bin/env bash
# `make stop`: stop whatever `make run` left running in this checkout, and only that. The web
# server, the Celery worker and beat are stopped by the pid files scripts/run.sh wrote in
# var/run/, never by a name pattern (`pkill -f "manage.py runserver"` also stopped the servers
# of every other checkout on the machine); then this checkout's PostgreSQL and Redis.
. "$(dirname "$0")/lib.sh"

HERE="$(cd "$ROOT" && pwd -P)"

# Whether pid $1 runs (a process that ended but was not yet reaped by its parent counts as
# gone).
running() {
    local state
    state="$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)" || return 1
    [ -n "$state" ] && [ "$state" != "Z" ]
}

# Whether pid $1 runs in this checkout: a pid file can outlive its process, and the number be
# given to another one since.
ours() {
    local pid="$1"
    [ -n "$pid" ] && running "$pid" || return 1
    [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$HERE" ]
}

stop_by_pid_file() {
    local name="$1" file="$VAR/run/$1.pid" pid
    [ -f "$file" ] || return 0
    pid="$(tr -dc '0-9' < "$file")"
    if ours "$pid"; then
        log "Stopping the $name (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 100); do running "$pid" || break; sleep 0.1; done
        if running "$pid"; then
            log "The $name did not stop within 10 s: killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$file"
}

for name in web worker beat; do
    stop_by_pid_file "$name"
done
[ -f "$LOCAL_ENV" ] && { set -a; . "$LOCAL_ENV"; set +a; }
services_down
