"""Who uses the portal, for `make loadtest` (Locust; run by tests/loadtest/run.py, never by pytest).

Each simulated user logs in once through the real login form (bureau staff also through the
TOTP step) as an account of `seed_scale`, then browses as such a person does, with a second or
so between pages:

* managers: the overview, the study hours, the filing, the notices, the credit record;
* firm reviewers: the review queue, a filing, the managers, the compliance page and its export;
* bureau staff: the admin's filing list (plain, filtered, searched), a filing's page, the
  bureau overview and the statistics dashboard;
* the public: the look-up by registration number and name, the certificate check.

Every user sends its own client address in X-Forwarded-For, as the nginx of docs/deploy.md
would (the server runs with ALLAUTH_TRUSTED_PROXY_COUNT=1): the per-address limits of the
log-in and the public pages count each simulated person separately, as they would in reality.

The accounts come from `manage.py seed_scale --print-accounts` (LOADTEST_ACCOUNTS names the
file). Sessions of the logged-in users are kept in SESSIONS, so that the throughput phases of
run.py can reuse them without logging in again.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import os
import random
import re
import struct
import time
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlencode

import gevent
from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


# --- the accounts ---------------------------------------------------------------------------


@dataclass
class Accounts:
    password: str = ""
    totp: str = ""
    managers: list[str] = field(default_factory=list)
    firms: list[tuple[str, int]] = field(default_factory=list)  # (email, managers), largest first
    bureau: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # by level
    public: list[tuple[str, str, str]] = field(default_factory=list)  # (number, name, code)


def load_accounts(path: str) -> Accounts:
    accounts = Accounts()
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            parts = line.split()
            if len(parts) < 2:
                continue
            kind = parts[0]
            if kind == "password":
                accounts.password = parts[1]
            elif kind == "totp":
                accounts.totp = parts[1]
            elif kind == "manager":
                accounts.managers.append(parts[1])
            elif kind == "firm" and not parts[1].endswith("-b@" + parts[1].split("@")[1]):
                accounts.firms.append((parts[1], int(parts[2])))
            elif kind == "bureau":
                accounts.bureau[parts[2]].append(parts[1])
            elif kind == "public":
                accounts.public.append((parts[1], parts[2], parts[3]))
    if not (accounts.password and accounts.managers and accounts.firms and accounts.bureau):
        raise SystemExit(f"{path}: no accounts (run manage.py seed_scale first)")
    return accounts


ACCOUNTS = (
    load_accounts(os.environ["LOADTEST_ACCOUNTS"]) if "LOADTEST_ACCOUNTS" in os.environ else None
)
_rng = random.Random(2026)


def _pool(items: list) -> itertools.cycle:
    items = list(items)
    _rng.shuffle(items)
    return itertools.cycle(items)


if ACCOUNTS is not None:
    _managers = _pool(ACCOUNTS.managers)
    # Half the firm reviewers from the twenty largest firms (up to ~1,900 managers), half from
    # firms of every size.
    _large_firms = _pool([email for email, _n in ACCOUNTS.firms[:20]])
    _any_firms = _pool([email for email, _n in ACCOUNTS.firms[20:]])
    _firm_turn = itertools.cycle([_large_firms, _any_firms])
    # Bureau staff of every level in turn: province, prefecture, county, prefecture, county.
    _bureau = {level: _pool(emails) for level, emails in ACCOUNTS.bureau.items()}
    _bureau_turn = itertools.cycle(["province", "prefecture", "county", "prefecture", "county"])
    _addresses = (f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}" for n in itertools.count(1))

#: Logged-in sessions by role: (cookie header, client address, what the user found on its pages).
SESSIONS: dict[str, list[tuple[str, str, dict]]] = defaultdict(list)
#: How many users have logged in (run.py waits for all of them before it measures).
LOGGED_IN = {"count": 0, "failed": 0}


def totp_code(secret: str, at: float | None = None) -> str:
    """RFC 6238 TOTP (30 s, 6 digits, SHA-1), as allauth and authenticator apps compute it."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((at or time.time()) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


# --- the users ------------------------------------------------------------------------------


class PortalUser(FastHttpUser):
    abstract = True
    wait_time = between(0.5, 1.5)
    role = ""

    def __init__(self, environment):
        self.address = next(_addresses)
        # The proxy in front of the portal tells it the client's address (see the docstring).
        self.default_headers = {"X-Forwarded-For": self.address}
        super().__init__(environment)
        self.found: dict = {}

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.client.cookiejar)

    def post_form(self, path: str, data: dict, name: str, referer: str):
        return self.client.post(
            path,
            data=urlencode(data),
            headers={**FORM, "Referer": self.host + referer},
            name=name,
            catch_response=True,
        )

    def log_in(self, email: str) -> None:
        form = self.client.get("/accounts/login/", name="log in (form)")
        token = CSRF.search(form.text).group(1)
        with self.post_form(
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "login": email, "password": ACCOUNTS.password},
            "log in (password)",
            "/accounts/login/",
        ) as answer:
            text = answer.text or ""
            if "2fa" in text and 'name="code"' in text:
                answer.success()
                token = CSRF.search(text).group(1)
                # allauth takes the code of the current 30-second period only: a code about to
                # expire would arrive too late on a busy server.
                if 30 - time.time() % 30 < 8:
                    gevent.sleep(30 - time.time() % 30 + 0.2)
                with self.post_form(
                    "/accounts/2fa/authenticate/",
                    {"csrfmiddlewaretoken": token, "code": totp_code(ACCOUNTS.totp)},
                    "log in (TOTP code)",
                    "/accounts/2fa/authenticate/",
                ) as second:
                    self._check_logged_in(second, email)
            else:
                self._check_logged_in(answer, email)

    def _check_logged_in(self, answer, email: str) -> None:
        if 'name="password"' in (answer.text or "") or 'name="code"' in (answer.text or ""):
            answer.failure(f"could not log in as {email}")
            LOGGED_IN["failed"] += 1
            return
        answer.success()
        LOGGED_IN["count"] += 1

    def remember_session(self) -> None:
        SESSIONS[self.role].append((self.cookie_header(), self.address, self.found))

    def page(self, path: str, name: str):
        return self.client.get(path, name=name)


class ManagerUser(PortalUser):
    weight = 6
    role = "manager"

    def on_start(self):
        self.log_in(next(_managers))
        self.remember_session()

    @task(4)
    def overview(self):
        self.page("/me/", "manager: overview /me/")

    @task(2)
    def hours(self):
        self.page("/me/hours/", "manager: study hours")

    @task(2)
    def filing(self):
        self.page("/me/filing/", "manager: filing")

    @task(1)
    def notices(self):
        self.page("/notices/", "manager: notices")

    @task(1)
    def credit(self):
        self.page("/me/credit/", "manager: credit record")


FIRM_FILING = re.compile(r'href="/firm/filings/(\d+)/"')


class FirmUser(PortalUser):
    weight = 2
    role = "firm"

    def on_start(self):
        self.log_in(next(next(_firm_turn)))
        self.queue()
        self.remember_session()

    @task(4)
    def queue(self):
        answer = self.page("/firm/filings/", "firm: review queue")
        ids = FIRM_FILING.findall(answer.text or "")
        if ids:
            self.found["filings"] = ids

    @task(2)
    def filing(self):
        if self.found.get("filings"):
            pk = random.choice(self.found["filings"])
            self.page(f"/firm/filings/{pk}/", "firm: a filing")

    @task(2)
    def managers(self):
        self.page("/firm/managers/", "firm: managers")

    @task(2)
    def compliance(self):
        self.page("/firm/compliance/", "firm: compliance")

    @task(1)
    def export(self):
        self.page("/firm/compliance/export/", "firm: compliance export (xlsx)")


ADMIN_FILINGS = "/admin/registry/annualfiling/"
ADMIN_FILING = re.compile(r'href="/admin/registry/annualfiling/(\d+)/change/')
COUNTY_FILTER = re.compile(r'href="\?county=(\d+)"')


class BureauUser(PortalUser):
    weight = 1
    role = "bureau"

    def on_start(self):
        self.log_in(next(_bureau[next(_bureau_turn)]))
        self.filings()
        self.remember_session()

    @task(3)
    def filings(self):
        answer = self.page(ADMIN_FILINGS, "bureau: admin filing list")
        text = answer.text or ""
        if ids := ADMIN_FILING.findall(text):
            self.found["filings"] = ids
        if counties := COUNTY_FILTER.findall(text):
            self.found["counties"] = counties

    @task(2)
    def filtered(self):
        query = {"status__exact": "awaiting_bureau", "year": random.choice(["2025", "2026"])}
        if self.found.get("counties") and random.random() < 0.5:
            query["county"] = random.choice(self.found["counties"])
        self.page(f"{ADMIN_FILINGS}?{urlencode(query)}", "bureau: admin filing list, filtered")

    @task(2)
    def search(self):
        name = random.choice(ACCOUNTS.public)[1] if ACCOUNTS.public else "王伟"
        self.page(f"{ADMIN_FILINGS}?{urlencode({'q': name})}", "bureau: admin filing search")

    @task(2)
    def filing(self):
        if self.found.get("filings"):
            pk = random.choice(self.found["filings"])
            self.page(f"{ADMIN_FILINGS}{pk}/change/", "bureau: admin filing page")

    @task(2)
    def overview(self):
        self.page("/bureau/", "bureau: overview")

    @task(1)
    def statistics(self):
        self.page("/bureau/statistics/", "bureau: statistics dashboard")


class PublicUser(PortalUser):
    weight = 1
    role = "public"

    def on_start(self):
        self.token = CSRF.search(self.page("/lookup/", "public: lookup form").text).group(1)
        LOGGED_IN["count"] += 1  # nobody to log in: ready
        self.remember_session()

    @task(2)
    def lookup(self):
        number, name, _code = random.choice(ACCOUNTS.public)
        with self.post_form(
            "/lookup/",
            {"csrfmiddlewaretoken": self.token, "number": number, "name": name, "code": ""},
            "public: lookup",
            "/lookup/",
        ) as answer:
            if answer.status_code == 200:
                answer.success()

    @task(2)
    def verify(self):
        _number, _name, code = random.choice(ACCOUNTS.public)
        self.page(f"/verify/{code[:4]}-{code[4:8]}-{code[8:]}/", "public: verify")


MIX = [ManagerUser, FirmUser, BureauUser, PublicUser]
