"""`make stop` stops only what this checkout started (issue 14, point 8): the processes named by
its pid files in var/run/ that run in this checkout, never by a name pattern (`pkill -f
"manage.py runserver"` stopped every checkout's server on the machine).

The script runs in a copy of scripts/ in a temporary "checkout" with no database or Redis of
its own, so that stopping them does nothing to the ones of this test run."""

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
# A process whose command line looks like another checkout's web server.
LOOKALIKE = [sys.executable, "-c", "import time; time.sleep(120)", "manage.py", "runserver"]


def _alive(proc: subprocess.Popen) -> bool:
    return proc.poll() is None


def _wait_gone(proc: subprocess.Popen, seconds: float = 15) -> bool:
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


@pytest.fixture
def checkout(tmp_path):
    root = tmp_path / "checkout"
    (root / "scripts").mkdir(parents=True)
    for name in ("lib.sh", "stop.sh"):
        shutil.copy(SCRIPTS / name, root / "scripts" / name)
    (root / "var" / "run").mkdir(parents=True)
    return root


@pytest.fixture
def processes():
    started = []

    def start(cwd):
        proc = subprocess.Popen(LOOKALIKE, cwd=cwd)
        started.append(proc)
        return proc

    yield start
    for proc in started:  # only the processes this test started, by their own handles
        if _alive(proc):
            proc.kill()
            proc.wait()


def _stop(checkout):
    return subprocess.run(
        ["bash", str(checkout / "scripts" / "stop.sh")],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_stop_ends_this_checkouts_processes_by_their_pid_files(checkout, processes, tmp_path):
    web, worker = processes(checkout), processes(checkout)
    other = tmp_path / "other-checkout"
    other.mkdir()
    elsewhere = processes(other)  # another checkout's server, same command line
    (checkout / "var" / "run" / "web.pid").write_text(f"{web.pid}\n")
    (checkout / "var" / "run" / "worker.pid").write_text(f"{worker.pid}\n")

    result = _stop(checkout)

    assert result.returncode == 0, result.stderr
    assert _wait_gone(web) and _wait_gone(worker)
    time.sleep(0.5)
    assert _alive(elsewhere), "make stop ended another checkout's process"
    assert not (checkout / "var" / "run" / "web.pid").exists()
    assert not (checkout / "var" / "run" / "worker.pid").exists()


def test_stop_leaves_a_process_that_took_over_a_stale_pid(checkout, processes, tmp_path):
    """A pid file left behind names a process of someone else now: it is not stopped."""
    other = tmp_path / "other-checkout"
    other.mkdir()
    elsewhere = processes(other)
    (checkout / "var" / "run" / "beat.pid").write_text(f"{elsewhere.pid}\n")

    result = _stop(checkout)

    assert result.returncode == 0, result.stderr
    time.sleep(0.5)
    assert _alive(elsewhere)
    assert not (checkout / "var" / "run" / "beat.pid").exists()


def test_stop_uses_no_name_pattern():
    code = [
        line
        for line in (SCRIPTS / "stop.sh").read_text().splitlines()
        if not line.lstrip().startswith("#")
    ]
    assert not [line for line in code if "pkill" in line or "killall" in line]
    run = (SCRIPTS / "run.sh").read_text()
    # run.sh records each process it starts with `started <name> <pid>`, which writes
    # var/run/<name>.pid.
    assert '"$VAR/run/$1.pid"' in run
    for name in ("web", "worker", "beat"):
        assert f"started {name} $!" in run, f"run.sh writes no pid file for {name}"
