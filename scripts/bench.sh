#!/usr/bin/env bash
# `make bench`: every tests/benchmarks/bench_*.py in turn, against the real PostgreSQL and Redis.
# Each benchmark builds (and drops) its own scratch database and prints `BENCH <name> <value>
# <unit>` lines on stdout. Never part of `make test`. Stops the servers it started when it ends.
. "$(dirname "$0")/lib.sh"

stop_on_exit_what_was_not_running

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
