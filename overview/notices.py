"""Employers are told: when the recompute (credit.scoring) changes the current grade of
managers, each reviewer of a firm that employs any of them gets one notice per run with how
many and the first names. One statement whatever the number of managers (the recompute hands
over its temporary table of changes; `credit.scoring.grade_change_hook_register`)."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.urls import reverse

from accounts.models import Employment, FirmMembership, ManagerProfile, User
from notifications.models import Notice
from notifications.services import emails_queue

#: Names listed in one notice (the rest are counted).
NAMES_SHOWN = 5


def grade_change_notices(table: str, now: dt.datetime) -> list[int]:
    """Insert the reviewers' notices of the grade changes in `table` (manager_id, old_grade,
    new_grade); a first grade (old_grade NULL) is not a change. Returns the new notices' ids
    (their e-mails are queued after the commit)."""
    notice = Notice._meta.db_table
    sql = f"""
        INSERT INTO {notice} (recipient_id, kind, params, link, year, milestone, created_at,
                              email_state, email_error, attempts, sms_state, sms_error,
                              sms_attempts)
        SELECT fm.user_id, %s,
               jsonb_build_object('count', count(*),
                                  'names', to_jsonb((array_agg(p.real_name ORDER BY p.real_name))[1:%s])),
               %s, NULL, %s, %s, %s, '', 0, %s, '', 0
          FROM {table} c
          JOIN {Employment._meta.db_table} e ON e.manager_id = c.manager_id AND e.status = %s
          JOIN {FirmMembership._meta.db_table} fm ON fm.firm_id = e.firm_id
          JOIN {User._meta.db_table} u ON u.id = fm.user_id AND u.is_active
          JOIN {ManagerProfile._meta.db_table} p ON p.id = c.manager_id
         WHERE c.old_grade IS NOT NULL
         GROUP BY fm.user_id
        ON CONFLICT DO NOTHING
        RETURNING id
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                Notice.Kind.FIRM_GRADE_CHANGED.value,
                NAMES_SHOWN,
                reverse("overview:firm_managers"),
                f"grade-{now:%Y%m%d%H%M%S%f}",
                now,
                Notice.EmailState.PENDING.value,
                Notice.SmsState.NOT_WANTED.value,
                Employment.Status.ACTIVE.value,
            ],
        )
        ids = [row[0] for row in cursor.fetchall()]
    emails_queue(ids)
    return ids
