"""Time, count the queries of, and profile (pyinstrument) the pages of the load test in-process,
over seed_scale's province (scripts/profile.sh sets it up; never part of `make test`).

    bash scripts/profile.sh                       # every page: ms per request, queries
    bash scripts/profile.sh "firm: review queue"  # and a pyinstrument profile of that page

Each role is the worst case of its kind: the reviewer of the largest firm (~1,900 managers),
the province's bureau official (all 100,000 managers), a manager with filings of both years.
Prints `PROFILE <page> <ms> ms cpu <ms> ms <n> queries` (medians); the profile goes to stderr.
"""

from __future__ import annotations

import cProfile
import gc
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from pyinstrument import Profiler  # noqa: E402

from accounts.models import User  # noqa: E402
from registry.models import AnnualFiling  # noqa: E402
from tests.auth import mark_second_factor_passed  # noqa: E402

REPEAT = int(os.environ.get("PROFILE_REPEAT", 20))

# The cyclic garbage collector's pauses (by generation), counted while pages are timed: a
# sampling profiler charges them to whatever frame happened to allocate.
_gc = {"started": 0.0, "ms": [0.0, 0.0, 0.0], "runs": [0, 0, 0]}


def _time_gc(phase: str, info: dict) -> None:
    if phase == "start":
        _gc["started"] = time.perf_counter()
    else:
        _gc["ms"][info["generation"]] += (time.perf_counter() - _gc["started"]) * 1000
        _gc["runs"][info["generation"]] += 1


gc.callbacks.append(_time_gc)


def client_for(email: str) -> Client:
    user = User.objects.get(email=email)
    client = Client(HTTP_X_FORWARDED_FOR="10.9.9.9")
    client.force_login(user)
    if user.is_staff:
        mark_second_factor_passed(client, user)
    return client


def accounts() -> dict[str, str]:
    found = {}
    with open(os.environ["LOADTEST_ACCOUNTS"], encoding="utf-8") as lines:
        rows = [line.split() for line in lines]
    found["manager"] = next(r[1] for r in rows if r[0] == "manager" and r[3] == "awaiting_firm")
    found["firm"] = next(r[1] for r in rows if r[0] == "firm")  # the largest firm
    found["bureau"] = next(r[1] for r in rows if r[0] == "bureau" and r[2] == "province")
    found["public"] = next((r[1], r[2], r[3]) for r in rows if r[0] == "public")
    return found


def pages(who: dict) -> list[tuple[str, str, str, str, dict | None]]:
    firm_user = User.objects.get(email=who["firm"])
    firm_filing = (
        AnnualFiling.objects.filter(
            firm=firm_user.firm_membership.firm, status=AnnualFiling.Status.AWAITING_FIRM
        )
        .values_list("pk", flat=True)
        .first()
    )
    bureau_filing = (
        AnnualFiling.objects.filter(status=AnnualFiling.Status.AWAITING_BUREAU)
        .values_list("pk", flat=True)
        .first()
    )
    number, name, code = who["public"]
    admin = "/admin/registry/annualfiling/"
    return [
        ("bare view", "public", "GET", "/__bare__/", None),
        ("manager: overview /me/", "manager", "GET", "/me/", None),
        ("manager: study hours", "manager", "GET", "/me/hours/", None),
        ("manager: filing", "manager", "GET", "/me/filing/", None),
        ("manager: notices", "manager", "GET", "/notices/", None),
        ("manager: credit record", "manager", "GET", "/me/credit/", None),
        ("firm: review queue", "firm", "GET", "/firm/filings/", None),
        ("firm: a filing", "firm", "GET", f"/firm/filings/{firm_filing}/", None),
        ("firm: managers", "firm", "GET", "/firm/managers/", None),
        ("firm: compliance", "firm", "GET", "/firm/compliance/", None),
        ("firm: compliance export", "firm", "GET", "/firm/compliance/export/", None),
        ("bureau: admin filing list", "bureau", "GET", admin, None),
        (
            "bureau: admin filing list, filtered",
            "bureau",
            "GET",
            admin + "?status__exact=awaiting_bureau&year=2026",
            None,
        ),
        ("bureau: admin filing search", "bureau", "GET", admin + f"?q={name}", None),
        ("bureau: admin filing page", "bureau", "GET", f"{admin}{bureau_filing}/change/", None),
        ("bureau: overview", "bureau", "GET", "/bureau/", None),
        (
            "public: lookup",
            "public",
            "POST",
            "/lookup/",
            {"number": number, "name": name, "code": ""},
        ),
        ("public: verify", "public", "GET", f"/verify/{code}/", None),
    ]


def main(wanted: str = "") -> None:
    who = accounts()
    clients = {role: client_for(who[role]) for role in ("manager", "firm", "bureau")}
    clients["public"] = Client(HTTP_X_FORWARDED_FOR="10.9.9.8")
    for name, role, method, url, data in pages(who):
        if wanted and wanted not in name:
            continue
        client = clients[role]

        def hit(client=client, method=method, url=url, data=data):
            answer = client.post(url, data) if method == "POST" else client.get(url)
            assert answer.status_code == 200, (url, answer.status_code)
            return answer

        hit()  # warm: templates, connections
        with CaptureQueriesContext(connection) as captured:
            hit()
        queries = list(captured.captured_queries)  # read now: the next request clears the log
        times, cpu = [], []
        _gc["ms"], _gc["runs"] = [0.0, 0.0, 0.0], [0, 0, 0]
        for _ in range(REPEAT):
            started, started_cpu = time.perf_counter(), time.process_time()
            hit()
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        # Wall time includes the database's; CPU time is this process's alone (steadier when
        # the machine is shared).
        print(
            f"PROFILE {name.replace(' ', '_')} {statistics.median(times):.1f} ms "
            f"cpu {statistics.median(cpu):.1f} ms {len(queries)} queries "
            f"gc {sum(_gc['ms']) / REPEAT:.2f} ms ({'/'.join(map(str, _gc['runs']))} runs)",
            flush=True,
        )
        if wanted:
            chars = int(os.environ.get("PROFILE_SQL_CHARS", 400))
            for query in queries:
                print(f"  SQL {query['time']}s {query['sql'][:chars]}", file=sys.stderr)
            if os.environ.get("PROFILE_CPROFILE"):
                # Deterministic: every call counted (slower, but exact in what calls what).
                stats_file = io.StringIO()
                with cProfile.Profile() as deterministic:
                    for _ in range(REPEAT):
                        hit()
                pstats.Stats(deterministic, stream=stats_file).sort_stats(
                    os.environ["PROFILE_CPROFILE"]
                ).print_stats(45)
                print(stats_file.getvalue(), file=sys.stderr)
            profiler = Profiler(interval=0.0005)
            with profiler:
                for _ in range(REPEAT):
                    hit()
            # PROFILE_FLAT=self|total: functions by their own (or their total) time instead of
            # the call tree.
            flat = os.environ.get("PROFILE_FLAT", "")
            text = profiler.output_text(
                unicode=True,
                show_all=bool(flat),
                flat=bool(flat),
                flat_time=flat or "self",
            )
            print(text, file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
