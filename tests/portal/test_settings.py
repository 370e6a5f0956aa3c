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
