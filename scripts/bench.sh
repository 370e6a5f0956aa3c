#!/usr/bin/env bash
# `make bench`: every tests/benchmarks/bench_*.py in turn, against the real PostgreSQL and Redis.
# Each benchmark builds (and drops) its own scratch database and prints `BENCH <name> <value>
# <unit>` lines on stdout. Never part of `make test`. Stops the servers it started when it ends.
. "$(dirname "$0")/lib.sh"

STARTED_PG=0; STARTED_REDIS=0
pg_running 2>/dev/null || STARTED_PG=1
redis_running 2>/dev/null || STARTED_REDIS=1
cleanup() {
    [ "$STARTED_PG" = 1 ] && pg_stop
    [ "$STARTED_REDIS" = 1 ] && redis_stop
    return 0
}
trap cleanup EXIT

services_up
cd "$ROOT"
# TESTING makes password hashing cheap; DEBUG allows the local host names.
export DEBUG=true TESTING=1

shopt -s nullglob
benchmarks=(tests/benchmarks/bench_*.py)
[ ${#benchmarks[@]} -gt 0 ] || die "No benchmark in tests/benchmarks/bench_*.py"
for bench in "${benchmarks[@]}"; do
    log "Benchmark $bench"
    "$PY" "$bench"
done
