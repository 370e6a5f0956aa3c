"""The columns of the exported notice list (the admin's audit of notices, core.exports)."""

from __future__ import annotations

from operator import attrgetter

from django.utils.translation import gettext_lazy as _

from core.exports import Column

from .wording import notice_title


def notice_columns(*, full_ids: bool) -> list[Column]:
    """Notices (rows: `Notice` with `recipient` selected), the title in the reader's language."""
    return [
        Column(_("time"), attrgetter("created_at"), width=18),
        Column(_("recipient"), lambda n: n.recipient.email, width=28),
        Column(_("kind"), lambda n: n.get_kind_display(), width=20),
        Column(_("year"), attrgetter("year"), width=8),
        Column(_("title"), notice_title, width=40),
        Column(_("e-mail"), lambda n: n.get_email_state_display()),
        Column(_("e-mailed"), attrgetter("emailed_at"), width=18),
        Column(_("attempts"), attrgetter("attempts"), width=8),
        Column(_("SMS"), lambda n: n.get_sms_state_display()),
        Column(_("SMS sent"), attrgetter("smsed_at"), width=18),
        Column(_("read"), attrgetter("read_at"), width=18),
    ]
