"""gunicorn settings of `make run` and `make loadtest` (scripts/run.sh, scripts/loadtest.sh).

Every value can be changed through an environment variable, which is how the worker class and
count were measured (README, "Performance"). The bind address and the pid file come from the
command line of the scripts.
"""

import multiprocessing
import os

_cores = multiprocessing.cpu_count()

wsgi_app = "portal.wsgi:application"
# Sync workers, 2 × cores + 1: each request holds one worker for its whole life, so a slow
# client or page never holds up another, and Python's GIL never lets threads of one worker
# run Python in parallel anyway. gthread measured no better on this machine (README).
workers = int(os.environ.get("GUNICORN_WORKERS", 2 * _cores + 1))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", 1))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5
# Workers are replaced now and then so that a slow leak never grows without bound.
# (0: never; the performance scripts measure without replacements.)
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 5000)
if os.environ.get("GUNICORN_MAX_REQUESTS") == "0":
    max_requests = 0
max_requests_jitter = max_requests // 10
# The heartbeat file of each worker in memory, not on disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "portal-web"
