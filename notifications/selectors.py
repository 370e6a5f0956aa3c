"""Reads of notices, scoped to a user."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.access import in_jurisdiction, scoped
from accounts.models import User

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
