#!/usr/bin/env bash
# `make stop`: stop whatever `make run` left running in this checkout.
. "$(dirname "$0")/lib.sh"
for f in "$VAR"/run/*.pid; do :; done
pkill -f "$ROOT/.venv/bin/celery" 2>/dev/null || true
pkill -f "manage.py runserver" 2>/dev/null || true
[ -f "$LOCAL_ENV" ] && { set -a; . "$LOCAL_ENV"; set +a; }
services_down
