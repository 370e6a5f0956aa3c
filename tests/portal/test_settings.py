"""Settings behave as documented: DEBUG off needs real secrets and passes `check --deploy`."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **env):
    # The browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; production never does.
    dropped = ("SECRET_KEY", "DEBUG", "TESTING", "DJANGO_ALLOW_ASYNC_UNSAFE")
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    base.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _production_env(**extra):
    env = {
        "DEBUG": "false",
        "SECRET_KEY": "k" * 20 + "Zq8#vLp2!mW4xR7tY1uI3oP5aS6dF9gH0jK",
        "ALLOWED_HOSTS": "portal.example.cn",
        "FIELD_ENCRYPTION_SALTS": "a-production-salt-value",
        "ID_HASH_KEY": "a-production-hash-key-value",
        # An unused local file that .env loading must not override: explicit values win.
        "TESTING": "",
    }
    env.update(extra)
    return env


def test_debug_off_without_secret_key_refuses_to_start():
    env = _production_env()
    env["SECRET_KEY"] = ""
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_debug_off_with_placeholder_secret_key_refuses_to_start():
    result = run_manage("check", **_production_env(SECRET_KEY="django-insecure-" + "x1y2z3" * 10))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_debug_off_passes_check_deploy_without_warnings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **_production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr


def test_sqlite_database_url_is_refused():
    result = run_manage("check", **_production_env(DATABASE_URL="sqlite:///tmp/x.db"))
    assert result.returncode != 0
    assert "PostgreSQL" in result.stderr


def test_language_and_time_zone(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _ in settings.LANGUAGES] == ["zh-hans", "en"]
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True


def test_local_http_relaxes_only_what_it_names():
    """scripts/run.sh serves plain http on 127.0.0.1 with DEBUG off: cookies without `Secure`,
    no redirect, no HSTS, through variables; without them a deployment keeps all of it."""
    script = (
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT,"
        " s.SECURE_HSTS_SECONDS, s.ACCOUNT_DEFAULT_HTTP_PROTOCOL)"
    )
    local = run_manage(
        "shell",
        "-c",
        script,
        **_production_env(
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_SSL_REDIRECT="false",
            SECURE_HSTS_SECONDS="0",
            SESSION_COOKIE_SECURE="false",
            CSRF_COOKIE_SECURE="false",
            ACCOUNT_DEFAULT_HTTP_PROTOCOL="http",
        ),
    )
    assert local.stdout.split()[-6:] == ["False", "False", "False", "False", "0", "http"]
    deployed = run_manage("shell", "-c", script, **_production_env())
    assert deployed.stdout.split()[-6:] == ["False", "True", "True", "True", "31536000", "https"]


def test_the_bare_view_is_mounted_only_when_asked_for():
    script = (
        "from django.test import Client;"
        "print(Client(HTTP_HOST='127.0.0.1', headers={'X-Forwarded-Proto': 'https'})"
        ".get('/__bare__/').status_code)"
    )
    env = _production_env(ALLOWED_HOSTS="127.0.0.1")
    assert run_manage("shell", "-c", script, **env).stdout.split()[-1] == "404"
    assert run_manage("shell", "-c", script, PORTAL_BARE_VIEW="1", **env).stdout.split()[-1] == (
        "200"
    )
