"""The database session engine with its one read per request prepared once (core.prepared):
Django's `db` engine otherwise, so sessions stay in PostgreSQL (see README, "Performance": a
cache in front of them could bring back a session deleted while Redis was failing)."""

from __future__ import annotations

import datetime as dt

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from core.prepared import PreparedQuery

_SESSION = PreparedQuery(
    lambda session_key, now: Session.objects.filter(session_key=session_key, expire_date__gt=now)[
        :1
    ],
    session_key="",
    now=dt.datetime(2000, 1, 1, tzinfo=dt.UTC),
)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        if not self.session_key:
            self._session_key = None
            return None
        found = _SESSION.run(session_key=self.session_key, now=timezone.now())
        if found:
            return found[0]
        self._session_key = None
        return None
