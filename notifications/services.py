"""Creating notices and delivering their e-mails.

Creation is part of the change that causes it: a workflow transition, a job or a status change
writes its notices in its own transaction (`notices_create`, `notices_insert_from`), keyed so that
the same notice is never written twice. Sending is separate and is the only part that needs the
broker: after the commit the new notices' e-mails are published (`emails_queue`) with short
timeouts and no retry inside the request; whatever is not published, or not sent, is picked up
by the periodic sweep (`notices_sweep`, beat every few minutes). Each e-mail is claimed before it
goes out (a conditional UPDATE), so it is sent once."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import CharField, DateTimeField, F, IntegerField, Q, QuerySet, Value
from django.template.loader import render_to_string
from django.utils import timezone, translation

from core.broker import publish

from .models import Notice
from .wording import notice_body, notice_title

#: E-mails per sending task.
CHUNK = 500
#: Pending e-mails older than this were not published, or the broker lost them: the sweep
#: publishes them again. Younger ones are left to the task published after their commit.
STALE_PENDING = dt.timedelta(minutes=2)
#: Failed e-mails are tried again by the sweep for this long, then left to the admin.
RETRY_FOR = dt.timedelta(days=7)
#: Name of the sending task (published by name: this module does not import the tasks).
SEND_TASK = "notifications.send_notice_emails"


# --- creation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewNotice:
    recipient_id: int
    kind: str
    link: str
    params: dict
    year: int | None
    milestone: str


def notices_create(notices: Iterable[NewNotice]) -> list[int]:
    """Write notices in the open transaction; a notice whose key (recipient, year, kind,
    milestone) exists already is skipped. Returns the ids written now; their e-mails are
    published after the commit."""
    ids = []
    for n in notices:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Notice._meta.db_table} ({', '.join(_COLUMNS)}) "
                "VALUES (%s, %s, %s::jsonb, %s, %s, %s, now(), %s, '', 0) "
                "ON CONFLICT DO NOTHING RETURNING id",
                [
                    n.recipient_id,
                    n.kind,
                    _json(n.params),
                    n.link,
                    n.year,
                    n.milestone,
                    Notice.EmailState.PENDING,
                ],
            )
            row = cursor.fetchone()
        if row:
            ids.append(row[0])
    emails_queue(ids)
    return ids


def _json(value: dict) -> str:
    return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)


_COLUMNS = (
    "recipient_id",
    "kind",
    "params",
    "link",
    "year",
    "milestone",
    "created_at",
    "email_state",
    "email_error",
    "attempts",
)


def notice_rows(
    qs: QuerySet,
    *,
    recipient: str,
    kind: str,
    params,
    link: str,
    year: int,
    milestone: str,
    now: dt.datetime,
) -> QuerySet:
    """`qs` as the rows of new notices (for `notices_insert_from`): `recipient` names the field
    holding the user id, `params` is a `JSONObject` built from the row."""
    return qs.annotate(
        n_recipient=F(recipient),
        n_kind=Value(kind, output_field=CharField()),
        n_params=params,
        n_link=Value(link, output_field=CharField()),
        n_year=Value(year, output_field=IntegerField()),
        n_milestone=Value(milestone, output_field=CharField()),
        n_created=Value(now, output_field=DateTimeField()),
        n_state=Value(Notice.EmailState.PENDING, output_field=CharField()),
        n_error=Value("", output_field=CharField()),
        n_attempts=Value(0, output_field=IntegerField()),
    ).values_list(
        "n_recipient",
        "n_kind",
        "n_params",
        "n_link",
        "n_year",
        "n_milestone",
        "n_created",
        "n_state",
        "n_error",
        "n_attempts",
    )


def insert_select(
    table: str, columns: Iterable[str], rows: QuerySet, returning: str = "id"
) -> list:
    """``INSERT INTO table (columns) <rows> ON CONFLICT DO NOTHING RETURNING <returning>``: one
    statement whatever the number of rows; only the rows this statement inserted come back."""
    sql, params = rows.query.sql_with_params()
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({names}) {sql} ON CONFLICT DO NOTHING RETURNING {returning}",
            params,
        )
        return [row[0] for row in cursor.fetchall()]


def notices_insert_from(rows: QuerySet) -> list[int]:
    """Write the notices `rows` (from `notice_rows`) in one statement; returns the new ids.
    The caller queues their e-mails (`emails_queue`) once it has made all of them."""
    return insert_select(Notice._meta.db_table, _COLUMNS, rows)


# --- publishing ------------------------------------------------------------------------------


def emails_queue(notice_ids: Iterable[int]) -> None:
    """Publish the e-mails of these notices, in chunks, once the open transaction commits."""
    ids = sorted(set(notice_ids))
    if ids:
        transaction.on_commit(lambda: emails_publish_chunks(ids))


def emails_publish_chunks(ids: list[int]) -> int:
    """Publish `ids` in chunks of `CHUNK`, stopping at the first chunk the broker does not take:
    the rest stay pending for the sweep, and a broker that is down or hung is waited on once per
    run, not once per chunk (a day of 100,000 managers is about 150 chunks). Returns how many
    e-mails were published."""
    published = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        if not emails_publish(chunk):
            break
        published += len(chunk)
    return published


def emails_publish(notice_ids: list[int]) -> bool:
    """Publish one sending task. Never blocks a request: short connect and send timeouts, no
    retry, no result (`core.broker.publish`); a failure is logged and the notices stay pending
    for the sweep. True if published."""
    return publish(SEND_TASK, [notice_ids])


# --- delivery --------------------------------------------------------------------------------


def send_notice_batch(notice_ids: list[int]) -> tuple[list[int], dict[int, str]]:
    """E-mail notices, each in its recipient's language, over one connection to the mail server.

    Each notice is claimed just before its message goes out (a conditional UPDATE: pending or
    failed → sending), so two workers never send the same one, and marked sent just after. A
    worker killed between the two leaves that one notice `sending`: it is not sent again (it may
    have gone out); the admin shows it. A failure is recorded with its error.
    Returns (sent ids, {failed id: error})."""
    todo = list(
        Notice.objects.select_related("recipient")
        .filter(
            pk__in=notice_ids,
            email_state__in=[Notice.EmailState.PENDING, Notice.EmailState.FAILED],
        )
        .order_by("pk")
    )
    sent: list[int] = []
    failed: dict[int, str] = {}
    if not todo:
        return sent, failed
    try:
        mail = get_connection()
        mail.open()
    except Exception as exc:  # noqa: BLE001 (the mail server is down: nothing claimed)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        Notice.objects.filter(pk__in=[n.pk for n in todo]).update(
            email_state=Notice.EmailState.FAILED, email_error=error
        )
        return sent, {n.pk: error for n in todo}
    try:
        for notice in todo:
            claimed = Notice.objects.filter(
                pk=notice.pk,
                email_state__in=[Notice.EmailState.PENDING, Notice.EmailState.FAILED],
            ).update(
                email_state=Notice.EmailState.SENDING,
                claimed_at=timezone.now(),
                attempts=F("attempts") + 1,
            )
            if not claimed:
                continue  # another worker has it
            try:
                mail.send_messages([_message(notice, mail)])
            except Exception as exc:  # noqa: BLE001 (any failure of the mail server: retry)
                error = f"{type(exc).__name__}: {exc}"[:2000]
                Notice.objects.filter(pk=notice.pk).update(
                    email_state=Notice.EmailState.FAILED, email_error=error
                )
                failed[notice.pk] = error
            else:
                Notice.objects.filter(pk=notice.pk).update(
                    email_state=Notice.EmailState.SENT, emailed_at=timezone.now(), email_error=""
                )
                sent.append(notice.pk)
    finally:
        mail.close()
    return sent, failed


def _message(notice: Notice, mail_connection) -> EmailMessage:
    user = notice.recipient
    with translation.override(user.language or settings.LANGUAGE_CODE):
        context = {
            "title": notice_title(notice),
            "body": notice_body(notice),
            "url": settings.PORTAL_BASE_URL + (notice.link or "/"),
        }
        subject = render_to_string("notifications/email/notice_subject.txt", context).strip()
        body = render_to_string("notifications/email/notice_body.txt", context)
    return EmailMessage(
        settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + subject,
        body,
        None,
        [user.email],
        connection=mail_connection,
    )


def retry_backoff(retries: int) -> int:
    """Seconds before the n-th retry of a failed chunk: 1, 2, 4 … minutes, at most an hour."""
    return min(3600, 60 * 2**retries)


# --- the sweep -------------------------------------------------------------------------------


def unsent_ids(*, now: dt.datetime, exclude: Iterable[int] = ()) -> list[int]:
    """E-mails to publish again: pending for a while (never published: the broker was down,
    or the queue lost them), and failed in the last week. Never those left `sending` by a
    worker that died: they may have gone out."""
    skip = set(exclude)
    ids = Notice.objects.filter(
        Q(email_state=Notice.EmailState.PENDING, created_at__lt=now - STALE_PENDING)
        | Q(email_state=Notice.EmailState.FAILED),
        created_at__gte=now - RETRY_FOR,
    ).values_list("pk", flat=True)
    return [pk for pk in ids if pk not in skip]


def notices_sweep(*, now: dt.datetime | None = None) -> int:
    """Publish the e-mails still waiting (see `unsent_ids`); returns how many."""
    ids = unsent_ids(now=now or timezone.now())
    emails_publish_chunks(ids)
    return len(ids)


# --- reading -----------------------------------------------------------------------------------


def notices_mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notices read (these ids, or all unread); returns how many changed."""
    qs = Notice.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
