"""Publishing a Celery task from a web request without ever blocking it.

A broker that is down or hung must not hold a web worker: the connection and the send each give
up after `CELERY_PUBLISH_TIMEOUT` seconds (0.5 by default), there is no retry inside the
request, and a failure is logged and reported to the caller (False). Whatever the task was to
do is then found again by a periodic sweep (the notices' outbox, queued provider reports)."""

from __future__ import annotations

import logging

from celery import current_app
from django.conf import settings

log = logging.getLogger(__name__)


def publish(task_name: str, *, args: list | None = None) -> bool:
    """Send `task_name(*args)` to the broker, by name; True if the broker took it."""
    args = args or []
    if current_app.conf.task_always_eager:
        current_app.loader.import_default_modules()  # the apps' tasks modules (autodiscovery)
        current_app.tasks[task_name].apply(args=args)
        return True
    timeout = settings.CELERY_PUBLISH_TIMEOUT
    try:
        with current_app.connection_for_write(
            connect_timeout=timeout,
            transport_options={
                "socket_connect_timeout": timeout,
                "socket_timeout": timeout,
                "max_retries": 0,
            },
        ) as conn:
            current_app.send_task(task_name, args=args, connection=conn, retry=False)
    except Exception as exc:  # noqa: BLE001 (broker down or hung: left for the sweep)
        log.warning("%s%s not published: %s: %s", task_name, args[:3], type(exc).__name__, exc)
        return False
    return True
