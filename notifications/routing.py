"""Who is told: the people a notice about a firm or a jurisdiction goes to."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import BureauMembership, Jurisdiction, User
from core.jurisdictions import nearest_in


def firm_reviewers(*, firm_id: int) -> QuerySet[User]:
    """Everyone who reviews for the firm (its administrators review too)."""
    return User.objects.filter(firm_membership__firm_id=firm_id, is_active=True)


def bureau_reviewers(*, jurisdiction: Jurisdiction) -> QuerySet[User]:
    """Staff to tell of something awaiting the bureau: those of the nearest jurisdiction (the
    given one, else up the tree) that has staff, so a province is not flooded."""
    nearest = (
        nearest_in(BureauMembership.objects.all(), path=jurisdiction.path)
        .values_list("jurisdiction_id", flat=True)
        .first()
    )
    if nearest is None:
        return User.objects.none()
    return User.objects.filter(bureau_membership__jurisdiction_id=nearest, is_active=True)
