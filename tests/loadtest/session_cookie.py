"""Log in through the real login form and print the session's cookie header (for wrk).

    python tests/loadtest/session_cookie.py http://127.0.0.1:PORT manager@example.cn PASSWORD

Only for accounts without a second factor (managers, firm staff)."""

from __future__ import annotations

import re
import sys

import requests

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def main(base: str, email: str, password: str) -> None:
    session = requests.Session()
    login = f"{base}/accounts/login/"
    token = CSRF.search(session.get(login).text).group(1)
    answer = session.post(
        login,
        data={"csrfmiddlewaretoken": token, "login": email, "password": password},
        headers={"Referer": login},
    )
    if "sessionid" not in session.cookies or answer.url.rstrip("/").endswith("/login"):
        sys.exit(f"could not log in as {email} ({answer.status_code} {answer.url})")
    print("; ".join(f"{k}={v}" for k, v in session.cookies.items()))


if __name__ == "__main__":
    main(*sys.argv[1:4])
