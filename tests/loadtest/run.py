"""`make loadtest`'s measurement (scripts/loadtest.sh starts the server and runs this).

    python tests/loadtest/run.py http://127.0.0.1:PORT

1. **Log-in**: LOADTEST_USERS (50) users of the mix in tests/loadtest/locustfile.py log in,
   each once (the log-in's own figures are printed as `LOAD log in ...`).
2. **Mix**: the same users browse for LOADTEST_SECONDS (60) with about a second between pages.
   For each page: `LOAD <page> <p50 ms> <p95 ms> <p99 ms> <req/s> <errors>`.
3. **Throughput**: each page alone, then the bare template view (/__bare__/, the machine's
   limit), by LOADTEST_SATURATE_USERS (8, as wrk's 8 connections) users without pause for
   LOADTEST_SATURATE_SECONDS (8) after a 2-second warm-up, reusing the sessions of phase 1:
   `THROUGHPUT <page> <req/s> <percent of the bare view>`.

Locust and the server share this machine; the bare view is measured the same way, so the
ratio says what each page costs over the cost of serving anything at all.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import gevent  # noqa: E402
from locust import constant, task  # noqa: E402
from locust.contrib.fasthttp import FastHttpUser  # noqa: E402
from locust.env import Environment  # noqa: E402

from tests.loadtest import locustfile as lf  # noqa: E402

USERS = int(os.environ.get("LOADTEST_USERS", 50))
SECONDS = int(os.environ.get("LOADTEST_SECONDS", 60))
SATURATE_USERS = int(os.environ.get("LOADTEST_SATURATE_USERS", 8))
SATURATE_SECONDS = int(os.environ.get("LOADTEST_SATURATE_SECONDS", 8))
WARM_UP = 2


def log(message: str) -> None:
    print(f"[loadtest] {message}", file=sys.stderr, flush=True)


def entry_line(prefix: str, name: str, entry, seconds: float) -> str:
    p = entry.get_response_time_percentile
    return (
        f"{prefix} {name.replace(' ', '_')} {p(0.5):.0f} {p(0.95):.0f} {p(0.99):.0f} "
        f"{entry.num_requests / seconds:.1f} {entry.num_failures}"
    )


def report_errors(env: Environment) -> None:
    for error in list(env.stats.errors.values())[:10]:
        log(f"  error: {error.occurrences} x {error.method} {error.name}: {error.error}")


def phase_mix(host: str) -> None:
    env = Environment(user_classes=lf.MIX, host=host)
    runner = env.create_local_runner()
    log(f"{USERS} users log in (spawning 10 a second)")
    runner.start(USERS, spawn_rate=10)
    deadline = time.time() + 180
    while lf.LOGGED_IN["count"] + lf.LOGGED_IN["failed"] < USERS and time.time() < deadline:
        gevent.sleep(0.5)
    login_seconds = max(1.0, time.time() - env.stats.total.start_time)
    for name, method in (
        ("log in (form)", "GET"),
        ("log in (password)", "POST"),
        ("log in (TOTP code)", "POST"),
    ):
        entry = env.stats.entries.get((name, method))
        if entry and entry.num_requests:
            print(entry_line("LOAD", name, entry, login_seconds), flush=True)
    if lf.LOGGED_IN["failed"]:
        log(f"{lf.LOGGED_IN['failed']} users could not log in")
        report_errors(env)
    env.stats.reset_all()
    log(f"mix: {USERS} users for {SECONDS} s")
    started = time.time()
    gevent.sleep(SECONDS)
    elapsed = time.time() - started
    runner.stop()
    rows = sorted(
        (name, entry)
        for (name, _method), entry in env.stats.entries.items()
        if not name.startswith(("log in", "public: lookup form"))
    )
    for name, entry in rows:
        print(entry_line("LOAD", name, entry, elapsed), flush=True)
    total = env.stats.total
    print(entry_line("LOAD", "all pages", total, elapsed), flush=True)
    report_errors(env)
    runner.quit()


def _saturate(host: str, name: str, path: str, role: str | None, method: str = "GET") -> float:
    """Requests per second of one page by SATURATE_USERS users without pause."""
    sessions = lf.SESSIONS.get(role, []) if role else []
    if role and not sessions:
        log(f"  {name}: no logged-in {role} to reuse; skipped")
        return 0.0
    if callable(path):  # a page each user of phase 1 found (a filing of its own list)
        sessions = [s for s in sessions if path(s[2])]
        if not sessions:
            log(f"  {name}: nothing found to open; skipped")
            return 0.0
    counter = iter(range(10**9))

    class Saturating(FastHttpUser):
        wait_time = constant(0)

        def __init__(self, environment):
            n = next(counter)
            cookie, address, found = sessions[n % len(sessions)] if sessions else ("", "", {})
            self.default_headers = {"X-Forwarded-For": address or f"10.200.0.{n % 250 + 1}"}
            if cookie:
                self.default_headers["Cookie"] = cookie
            super().__init__(environment)
            self.path = path(found) if callable(path) else path
            self.token = ""

        def on_start(self):
            if method == "POST":
                self.token = lf.CSRF.search(self.client.get("/lookup/").text).group(1)

        @task
        def hit(self):
            if method == "POST":
                number, person, _code = lf.ACCOUNTS.public[next(counter) % len(lf.ACCOUNTS.public)]
                self.client.post(
                    self.path,
                    data=lf.urlencode(
                        {
                            "csrfmiddlewaretoken": self.token,
                            "number": number,
                            "name": person,
                            "code": "",
                        }
                    ),
                    headers=lf.FORM,
                    name=name,
                )
            else:
                self.client.get(self.path, name=name)

    env = Environment(user_classes=[Saturating], host=host)
    runner = env.create_local_runner()
    runner.start(SATURATE_USERS, spawn_rate=SATURATE_USERS)
    gevent.sleep(WARM_UP)
    env.stats.reset_all()
    started = time.time()
    gevent.sleep(SATURATE_SECONDS)
    elapsed = time.time() - started
    runner.stop()
    runner.quit()
    entry = env.stats.total
    if entry.num_failures:
        log(f"  {name}: {entry.num_failures} errors")
        report_errors(env)
    return entry.num_requests / elapsed


def _first(key: str, template: str):
    """The path of the first object of `key` that a user of phase 1 found on its pages."""

    def pick(found: dict) -> str | None:
        values = found.get(key) or []
        return template.format(values[0]) if values else None

    return pick


def phase_throughput(host: str) -> None:
    code = lf.ACCOUNTS.public[0][2]
    pages = [
        ("manager: overview /me/", "/me/", "manager"),
        ("manager: study hours", "/me/hours/", "manager"),
        ("manager: filing", "/me/filing/", "manager"),
        ("manager: notices", "/notices/", "manager"),
        ("manager: credit record", "/me/credit/", "manager"),
        ("firm: review queue", "/firm/filings/", "firm"),
        ("firm: a filing", _first("filings", template="/firm/filings/{}/"), "firm"),
        ("firm: managers", "/firm/managers/", "firm"),
        ("firm: compliance", "/firm/compliance/", "firm"),
        ("bureau: admin filing list", lf.ADMIN_FILINGS, "bureau"),
        (
            "bureau: admin filing list, filtered",
            lf.ADMIN_FILINGS + "?status__exact=awaiting_bureau&year=2026",
            "bureau",
        ),
        (
            "bureau: admin filing search",
            lf.ADMIN_FILINGS + "?" + lf.urlencode({"q": lf.ACCOUNTS.public[0][1]}),
            "bureau",
        ),
        (
            "bureau: admin filing page",
            _first("filings", template=lf.ADMIN_FILINGS + "{}/change/"),
            "bureau",
        ),
        ("bureau: overview", "/bureau/", "bureau"),
        ("bureau: statistics dashboard", "/bureau/statistics/", "bureau"),
        ("public: lookup", "/lookup/", "public", "POST"),
        ("public: verify", f"/verify/{code[:4]}-{code[4:8]}-{code[8:]}/", None),
    ]
    only = [part for part in os.environ.get("LOADTEST_ONLY", "").split(",") if part]
    if only:  # LOADTEST_ONLY="overview /me/,review queue": those pages (and the bare view)
        pages = [page for page in pages if any(part in page[0] for part in only)]
    log(f"throughput: each page alone, {SATURATE_USERS} users without pause")
    bare = _saturate(host, "bare view", "/__bare__/", None)
    results = []
    for name, path, role, *method in pages:
        rate = _saturate(host, name, path, role, *method)
        results.append((name, rate))
    # The bare view again at the end: the machine may have been busier or quieter meanwhile.
    bare = (bare + _saturate(host, "bare view", "/__bare__/", None)) / 2
    print(f"THROUGHPUT bare_view {bare:.1f} 100.0%", flush=True)
    for name, rate in results:
        share = 100 * rate / bare if bare else 0
        print(f"THROUGHPUT {name.replace(' ', '_')} {rate:.1f} {share:.1f}%", flush=True)


def main(host: str) -> None:
    if lf.ACCOUNTS is None:
        raise SystemExit("LOADTEST_ACCOUNTS must name the output of seed_scale --print-accounts")
    phase_mix(host)
    if os.environ.get("LOADTEST_SKIP_THROUGHPUT") != "1":
        phase_throughput(host)


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
