"""Reads of notices, scoped to a user."""

from __future__ import annotations

from django.db import connection
from django.db.models import IntegerField, QuerySet
from django.db.models.expressions import RawSQL

from accounts.access import in_jurisdiction, scoped
from accounts.models import User
from accounts.roles import user_table_sql

from .models import Notice


def notice_list_for(*, user: User) -> QuerySet[Notice]:
    if not user.is_authenticated:
        return Notice.objects.none()
    return Notice.objects.filter(recipient=user)


def jurisdiction_notice_list_for(*, user: User) -> QuerySet[Notice]:
    """Notices bureau staff may audit (the admin): those to the managers and firm staff of
    their jurisdiction and below, with whether each e-mail went out."""
    return scoped(
        Notice.objects.select_related("recipient"),
        user=user,
        bureau=in_jurisdiction(
            "recipient__manager_profile__jurisdiction",
            "recipient__firm_membership__firm__jurisdiction",
        ),
    )


def unread_notice_count(*, user: User) -> int:
    if not user.is_authenticated:
        return 0
    return Notice.objects.filter(recipient=user, read_at__isnull=True).count()


#: The name of the unread count among the values read with the user's roles.
UNREAD_ANNOTATION = "unread_notice_count"


def unread_notice_count_expression() -> RawSQL:
    """The unread count as SQL on the user row of the roles query (registered in apps.py; the
    context processor takes it from there): an index-only count (notice_unread_idx)."""
    quote = connection.ops.quote_name
    meta = Notice._meta
    return RawSQL(
        f"(SELECT COUNT(*) FROM {quote(meta.db_table)} n"
        f" WHERE n.{quote(meta.get_field('recipient').column)}"
        f" = {user_table_sql()}.{quote(User._meta.pk.column)}"
        f" AND n.{quote(meta.get_field('read_at').column)} IS NULL)",
        (),
        output_field=IntegerField(),
    )
