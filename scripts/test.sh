#!/usr/bin/env bash
# `make test`: the same set-up as `make run` from nothing, then the whole test suite against the
# real PostgreSQL and Redis. Stops the servers it started when it ends, whatever the outcome.
. "$(dirname "$0")/lib.sh"

stop_on_exit_what_was_not_running

PG_FSYNC=off services_up test
cd "$ROOT"
# The one-way layers first: a broken contract fails in seconds, before the suite starts.
"$VENV/bin/lint-imports" --no-cache
"$PY" manage.py compilemessages -v 0 --ignore=.venv
# Tests use their own Redis database so that a running `make run` worker never takes their tasks.
export REDIS_URL="redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/1"
export DEBUG=true TESTING=1 PORTAL_REQUIRE_BROWSER=1
"$VENV/bin/pytest" "$@"
