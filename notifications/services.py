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
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import (
    Case,
    CharField,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.template.loader import render_to_string
from django.utils import timezone, translation

from accounts.models import ManagerProfile
from core.broker import publish
from core.ratelimit import Limit, hit
from core.sms import sms_enabled, sms_send

from .models import SMS_KINDS, Notice
from .wording import notice_body, notice_title

log = logging.getLogger(__name__)

#: E-mails per sending task.
CHUNK = 500
#: Pending e-mails older than this were not published, or the broker lost them: the sweep
#: publishes them again. Younger ones are left to the task published after their commit.
STALE_PENDING = dt.timedelta(minutes=2)
#: Failed e-mails are tried again by the sweep for this long, then left to the admin.
RETRY_FOR = dt.timedelta(days=7)
#: Name of the sending task (published by name: this module does not import the tasks).
SEND_TASK = "notifications.send_notice_emails"
#: Name of the task sending the text messages of notices.
SMS_TASK = "notifications.send_notice_sms"
#: A failed text message is tried again by the sweep until it has had this many attempts.
SMS_MAX_ATTEMPTS = 5


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
    milestone) exists already is skipped. Returns the ids written now; their e-mails (and text
    messages) are published after the commit. A notice goes by SMS too when its kind is one of
    `SMS_KINDS` and its recipient has a verified phone and has not opted out (decided here, once).
    One multi-row INSERT per `CHUNK` notices (an audit draw tells thousands at once)."""
    ids: list[int] = []
    notices = list(notices)
    for start in range(0, len(notices), CHUNK):
        ids += _insert_notices(notices[start : start + CHUNK])
    emails_queue(ids)
    return ids


_ROW_SQL = (
    "(%s, %s, %s::jsonb, %s, %s::smallint, %s, now(), %s, '', 0, "
    "CASE WHEN %s AND EXISTS (SELECT 1 FROM {profiles} p WHERE p.user_id = %s "
    "AND p.phone_verified_at IS NOT NULL AND NOT p.sms_opt_out) "
    "THEN %s ELSE %s END, '', 0)"
)


def _insert_notices(chunk: list[NewNotice]) -> list[int]:
    if not chunk:
        return []
    row = _ROW_SQL.format(profiles=ManagerProfile._meta.db_table)
    params: list = []
    for n in chunk:
        params += [
            n.recipient_id,
            n.kind,
            _json(n.params),
            n.link,
            n.year,
            n.milestone,
            Notice.EmailState.PENDING,
            _wants_sms(n.kind),
            n.recipient_id,
            Notice.SmsState.PENDING,
            Notice.SmsState.NOT_WANTED,
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Notice._meta.db_table} ({', '.join(_COLUMNS)}) VALUES "
            + ", ".join([row] * len(chunk))
            + " ON CONFLICT DO NOTHING RETURNING id",
            params,
        )
        # RETURNING gives the inserted rows in the order of VALUES (PostgreSQL inserts them in
        # order); callers only rely on the set, and on one id for one notice.
        return [pk for (pk,) in cursor.fetchall()]


def _wants_sms(kind: str) -> bool:
    return kind in SMS_KINDS and sms_enabled()


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
    "sms_state",
    "sms_error",
    "sms_attempts",
)


def notice_rows(
    qs: QuerySet,
    *,
    recipient: str,
    kind: str,
    params,
    link: str,
    year,
    milestone,
    now: dt.datetime,
) -> QuerySet:
    """`qs` as the rows of new notices (for `notices_insert_from`): `recipient` names the field
    holding the user id, `params` is a `JSONObject` built from the row; `year` and `milestone`
    are values, or expressions on the row (one key per row, e.g. "af-<record id>"). The text
    message is wanted as in `notices_create`, read from the recipient's profile in the same
    statement."""
    if _wants_sms(kind):
        sms_state = Case(
            When(
                Exists(
                    ManagerProfile.objects.filter(
                        user_id=OuterRef(recipient),
                        phone_verified_at__isnull=False,
                        sms_opt_out=False,
                    )
                ),
                then=Value(Notice.SmsState.PENDING),
            ),
            default=Value(Notice.SmsState.NOT_WANTED),
            output_field=CharField(),
        )
    else:
        sms_state = Value(Notice.SmsState.NOT_WANTED, output_field=CharField())
    return qs.annotate(
        n_recipient=F(recipient),
        n_kind=Value(kind, output_field=CharField()),
        n_params=params,
        n_link=Value(link, output_field=CharField()),
        n_year=_expression(year, IntegerField()),
        n_milestone=_expression(milestone, CharField()),
        n_created=Value(now, output_field=DateTimeField()),
        n_state=Value(Notice.EmailState.PENDING, output_field=CharField()),
        n_error=Value("", output_field=CharField()),
        n_attempts=Value(0, output_field=IntegerField()),
        n_sms_state=sms_state,
        n_sms_error=Value("", output_field=CharField()),
        n_sms_attempts=Value(0, output_field=IntegerField()),
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
        "n_sms_state",
        "n_sms_error",
        "n_sms_attempts",
    )


def _expression(value, output_field):
    """An expression as it is, a plain value as a `Value`."""
    if hasattr(value, "resolve_expression"):
        return value
    return Value(value, output_field=output_field)


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
    """Publish the e-mails of these notices, in chunks, once the open transaction commits; and,
    when SMS is on, their text messages (the task sends only those whose SMS is pending)."""
    ids = sorted(set(notice_ids))
    if ids:
        transaction.on_commit(lambda: emails_publish_chunks(ids))


def emails_publish_chunks(ids: list[int]) -> int:
    """Publish `ids` in chunks of `CHUNK`, stopping at the first chunk the broker does not take:
    the rest stay pending for the sweep, and a broker that is down or hung is waited on once per
    run, not once per chunk (a day of 100,000 managers is about 150 chunks). Each chunk's text
    messages go with it when SMS is on and any of them is pending. Returns how many e-mails
    were published."""
    published = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        if not emails_publish(chunk):
            break
        published += len(chunk)
        if (
            sms_enabled()
            and Notice.objects.filter(pk__in=chunk, sms_state=Notice.SmsState.PENDING).exists()
        ):
            sms_publish(chunk)
    return published


def emails_publish(notice_ids: list[int]) -> bool:
    """Publish one e-mail sending task. Never blocks a request: short connect and send
    timeouts, no retry, no result (`core.broker.publish`); a failure is logged and the notices
    stay pending for the sweep. True if published."""
    return publish(SEND_TASK, [notice_ids])


def sms_publish(notice_ids: list[int]) -> bool:
    """Publish one text-message sending task, the same way as the e-mails."""
    return publish(SMS_TASK, [notice_ids])


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


def sms_rate_limit() -> Limit:
    # fail_open=False: when Redis cannot count, nothing is sent; the sweep tries again later.
    return Limit("sms-send", settings.SMS_RATE_PER_MINUTE, 60, fail_open=False)


def send_notice_sms_batch(notice_ids: list[int]) -> tuple[list[int], dict[int, str], list[int]]:
    """Send the text messages of these notices, each in its recipient's language, to the
    recipient's (verified) phone.

    Claimed like the e-mail (pending or failed → sending, one conditional UPDATE) so that two
    workers or a republished task never send one twice; marked sent or failed just after. A
    worker killed between the two leaves it `sending`, never sent again (the admin shows it).
    At most `SMS_RATE_PER_MINUTE` go out per minute, all workers together: the ones beyond the
    limit stay pending for the sweep. A recipient who opted out or whose phone is no longer
    verified since the notice was written is not sent to (the state becomes not wanted).
    Returns (sent ids, {failed id: error}, ids left for later)."""
    todo = list(
        Notice.objects.filter(
            pk__in=notice_ids,
            sms_state__in=[Notice.SmsState.PENDING, Notice.SmsState.FAILED],
        )
        .select_related("recipient", "recipient__manager_profile")
        .order_by("pk")
    )
    sent: list[int] = []
    failed: dict[int, str] = {}
    later: list[int] = []
    limit = sms_rate_limit()
    for notice in todo:
        profile = getattr(notice.recipient, "manager_profile", None)
        if profile is None or profile.phone_verified_at is None or profile.sms_opt_out:
            Notice.objects.filter(
                pk=notice.pk, sms_state__in=[Notice.SmsState.PENDING, Notice.SmsState.FAILED]
            ).update(sms_state=Notice.SmsState.NOT_WANTED)
            continue
        if not hit(limit, "all"):
            later.append(notice.pk)
            continue
        claimed = Notice.objects.filter(
            pk=notice.pk, sms_state__in=[Notice.SmsState.PENDING, Notice.SmsState.FAILED]
        ).update(
            sms_state=Notice.SmsState.SENDING,
            sms_claimed_at=timezone.now(),
            sms_attempts=F("sms_attempts") + 1,
        )
        if not claimed:
            continue  # another worker has it
        try:
            sms_send(profile.phone, sms_text(notice))
        except Exception as exc:  # noqa: BLE001 (any failure of the gateway: the sweep retries)
            error = f"{type(exc).__name__}: {exc}"[:2000]
            Notice.objects.filter(pk=notice.pk).update(
                sms_state=Notice.SmsState.FAILED, sms_error=error
            )
            failed[notice.pk] = error
        else:
            Notice.objects.filter(pk=notice.pk).update(
                sms_state=Notice.SmsState.SENT, smsed_at=timezone.now(), sms_error=""
            )
            sent.append(notice.pk)
    return sent, failed, later


def sms_text(notice: Notice) -> str:
    """The text message of a notice, in its recipient's language: title, body and the link."""
    with translation.override(notice.recipient.language or settings.LANGUAGE_CODE):
        title, body = notice_title(notice), notice_body(notice)
    return f"{title}: {body} {settings.PORTAL_BASE_URL}{notice.link or '/'}"


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


def unsent_sms_ids(*, now: dt.datetime) -> list[int]:
    """Text messages to publish again: pending for a while (not published, left beyond the rate
    limit, or lost), and failed ones with attempts left, of the last week. Never `sending`."""
    return list(
        Notice.objects.filter(
            Q(sms_state=Notice.SmsState.PENDING, created_at__lt=now - STALE_PENDING)
            | Q(sms_state=Notice.SmsState.FAILED, sms_attempts__lt=SMS_MAX_ATTEMPTS),
            created_at__gte=now - RETRY_FOR,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def notices_sweep(*, now: dt.datetime | None = None) -> int:
    """Publish the e-mails still waiting (see `unsent_ids`) and the text messages still waiting
    (see `unsent_sms_ids`); returns how many e-mails (the text messages are logged)."""
    now = now or timezone.now()
    ids = unsent_ids(now=now)
    emails_publish_chunks(ids)
    sms_ids = unsent_sms_ids(now=now) if sms_enabled() else []
    for start in range(0, len(sms_ids), CHUNK):
        if not sms_publish(sms_ids[start : start + CHUNK]):
            break
    if sms_ids:
        log.info("sweep: %d text messages published again", len(sms_ids))
    return len(ids)


# --- reading -----------------------------------------------------------------------------------


def notices_mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notices read (these ids, or all unread); returns how many changed."""
    qs = Notice.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())
