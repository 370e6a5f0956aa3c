"""The columns of the exported notice list (the admin's audit of notices, core.exports)."""

from __future__ import annotations

from operator import attrgetter

from django.utils.translation import gettext_lazy as _

from core.exports import Column, choice_labels

from .models import Notice
from .wording import notice_body, notice_title


def notice_columns(*, full_ids: bool) -> list[Column]:
    """Notices (rows: `Notice` with `recipient` selected), the title in the reader's language."""
    kind = choice_labels(Notice.Kind.choices)
    email = choice_labels(Notice.EmailState.choices)
    sms = choice_labels(Notice.SmsState.choices)
    return [
        Column(_("time"), attrgetter("created_at"), width=18),
        Column(_("recipient"), lambda n: n.recipient.email, width=28),
        Column(_("kind"), lambda n: kind(n.kind), width=20),
        Column(_("year"), attrgetter("year"), width=8),
        Column(_("title"), notice_title, width=40),
        Column(_("e-mail"), lambda n: email(n.email_state)),
        Column(_("e-mailed"), attrgetter("emailed_at"), width=18),
        Column(_("attempts"), attrgetter("attempts"), width=8),
        Column(_("SMS"), lambda n: sms(n.sms_state)),
        Column(_("SMS sent"), attrgetter("smsed_at"), width=18),
        Column(_("read"), attrgetter("read_at"), width=18),
    ]


def own_notice_columns() -> list[Column]:
    """The reader's own notices (the notice list's export): when, what, and when read."""
    kind = choice_labels(Notice.Kind.choices)
    return [
        Column(_("time"), attrgetter("created_at"), width=18),
        Column(_("kind"), lambda n: kind(n.kind), width=20),
        Column(_("year"), attrgetter("year"), width=8),
        Column(_("title"), notice_title, width=40),
        Column(_("details"), notice_body, width=80),
        Column(_("read"), attrgetter("read_at"), width=18),
    ]
