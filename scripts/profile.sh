#!/usr/bin/env bash
# In-process timing, query counts and a pyinstrument profile of the load test's pages over
# seed_scale's province (tests/loadtest/profile_pages.py), with the production settings.
#
#   bash scripts/profile.sh                       # every page: `PROFILE <page> <ms> <queries>`
#   bash scripts/profile.sh "firm: review queue"  # that page, with its SQL and its profile
. "$(dirname "$0")/perf_lib.sh"

stop_on_exit_what_was_not_running
services_up
cd "$ROOT"
use_scale_database
mkdir -p "$VAR/loadtest"
DEBUG=true "$PY" manage.py migrate --noinput -v 0
DEBUG=true "$PY" manage.py seed_scale --managers "${LOADTEST_MANAGERS:-100000}" >/dev/null
DEBUG=true "$PY" manage.py seed_scale --print-accounts > "$VAR/loadtest/accounts.txt"
production_env
export ALLOWED_HOSTS="testserver,127.0.0.1" ALLAUTH_TRUSTED_PROXY_COUNT=1
export PUBLIC_LOOKUP_RATE="100000/m" PUBLIC_VERIFY_RATE="100000/m" PORTAL_BARE_VIEW=1
"$PY" manage.py collectstatic --noinput -v 0
LOADTEST_ACCOUNTS="$VAR/loadtest/accounts.txt" "$PY" tests/loadtest/profile_pages.py "$@"
