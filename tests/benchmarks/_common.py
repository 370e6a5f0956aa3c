"""What every benchmark shares: progress on stderr, BENCH lines on stdout, and a scratch
database (`<DATABASE name>_bench`, dropped first if a previous run left it, always dropped at
the end). Import it after `django.setup()`."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator

from django.conf import settings
from django.db import connection

_started = time.perf_counter()


def log(message: str) -> None:
    print(f"[{time.perf_counter() - _started:7.1f}s] {message}", file=sys.stderr, flush=True)


def bench(name: str, value: float, unit: str, fmt: str = ".2f") -> None:
    print(f"BENCH {name} {value:{fmt}} {unit}", flush=True)


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """Create and migrate the scratch database, point the connection at it, drop it at the end
    (only ever the scratch one, never the database DATABASE_URL names)."""
    db = settings.DATABASES["default"]
    original = db["NAME"]
    scratch = f"{original}_bench"
    db.setdefault("TEST", {})["NAME"] = scratch
    log(f"creating the scratch database {scratch} (dropped first if it exists) and migrating")
    try:
        connection.creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False, keepdb=False
        )
        yield scratch
    finally:
        if connection.settings_dict["NAME"] == scratch:
            log(f"dropping the scratch database {scratch}")
            connection.creation.destroy_test_db(original, verbosity=0, keepdb=False)
