"""Publishing a Celery task from a web request without ever waiting on the broker.

A request that publishes after its commit (an e-mail to send, an import to run) must answer at
the normal speed whatever Redis does. Celery's own `delay()` does not: it retries the publish
(`task_publish_retry`), and before publishing it subscribes to the task's result on the result
backend (Redis too), whose client reconnects twenty times a second apart: an approval waited
19 s when Redis was down, after which that process's result consumer gave up for good ("The
Celery application must be restarted").

`publish` sends with short connect and socket timeouts on a connection of its own, no retry, and
without touching the result backend (`ignore_result`: no caller reads these results). A failure is
logged and reported to the caller, which leaves the work where a later sweep finds it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from celery import current_app
from django.conf import settings

log = logging.getLogger(__name__)


def publish(name: str, args: Sequence = ()) -> bool:
    """Publish the task `name` with `args`; True if the broker took it. Never raises.

    Kombu's Redis transport passes `socket_connect_timeout` and `socket_timeout` to redis-py,
    which applies them to every connect and every read: a Redis that refuses fails at once, a
    hung one (SIGSTOP, a dead host) after `CELERY_PUBLISH_TIMEOUT` at its first unanswered
    read, and `max_retries=0` stops kombu from connecting again (tests/faults measure both).
    With eager tasks (tests, `CELERY_TASK_ALWAYS_EAGER`) the task runs here."""
    app = current_app
    if app.conf.task_always_eager:
        app.loader.import_default_modules()  # the apps' tasks modules (Celery's autodiscovery)
        app.tasks[name].apply(args=list(args))
        return True
    timeout = settings.CELERY_PUBLISH_TIMEOUT
    try:
        with app.connection_for_write(
            connect_timeout=timeout,
            transport_options={
                "socket_connect_timeout": timeout,
                "socket_timeout": timeout,
                "max_retries": 0,
            },
        ) as conn:
            app.send_task(name, args=list(args), connection=conn, retry=False, ignore_result=True)
    except Exception as exc:  # noqa: BLE001 (broker down or hung: the caller's sweep takes over)
        log.warning("task %s %s not published: %s: %s", name, _short(args), type(exc).__name__, exc)
        return False
    return True


def _short(args: Sequence) -> str:
    text = repr(list(args))
    return text if len(text) <= 80 else text[:77] + "..."
