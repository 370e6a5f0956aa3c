"""Reads scoped to a user: the one place that says who may see what.

Outside a user's reach an object does not exist for them (404), so that a 403 never reveals that
it does. Every portal view and every admin queryset goes through these functions.
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from core.prepared import PreparedQuery

from .access import employed_by, employing_firm, in_jurisdiction, own_firm, own_manager, scoped
from .models import (
    Employment,
    Firm,
    FirmInvitation,
    FirmMembership,
    IdentityLookup,
    Jurisdiction,
    ManagerProfile,
    StaffInvitation,
    User,
)
from .roles import Role, roles_of


def jurisdiction_subtree(*, jurisdiction: Jurisdiction) -> QuerySet[Jurisdiction]:
    """The jurisdiction and everything under it, at any depth, in one query."""
    return Jurisdiction.objects.filter(path__startswith=jurisdiction.path)


def jurisdiction_list_for(*, user: User) -> QuerySet[Jurisdiction]:
    return scoped(
        Jurisdiction.objects.all(),
        user=user,
        bureau=lambda roles: Q(path__startswith=roles.jurisdiction.path),
    )


def manager_list_for(*, user: User) -> QuerySet[ManagerProfile]:
    """Managers a user may see: a manager only himself, a firm's staff the firm's current
    managers, bureau staff the managers of their jurisdiction and below."""
    return scoped(
        ManagerProfile.objects.select_related("user", "jurisdiction"),
        user=user,
        manager=lambda roles: Q(user=roles.user),
        firm=employing_firm(),
        bureau=in_jurisdiction("jurisdiction"),
    )


def manager_get_for(*, user: User, pk: int) -> ManagerProfile:
    return get_object_or_404(manager_list_for(user=user), pk=pk)


def firm_list_for(*, user: User) -> QuerySet[Firm]:
    return scoped(
        Firm.objects.select_related("jurisdiction"),
        user=user,
        firm=lambda roles: Q(pk=roles.firm.pk),
        bureau=in_jurisdiction("jurisdiction"),
    )


def firm_current_managers(*, firm: Firm) -> QuerySet[ManagerProfile]:
    """The firm's currently employed managers, with what the list page shows, in one query
    (the page's search and status filter: `overview.filters.FirmManagerFilter`; never by ID
    number, which is a POST form: `services.manager_find_by_id_number`)."""
    return (
        ManagerProfile.objects.filter(employed_by(firm))
        .select_related("user")
        .order_by("real_name", "pk")
    )


def employment_list_for(*, user: User) -> QuerySet[Employment]:
    """Employments a user may see and act on: a manager his own, a firm's staff the firm's."""
    return scoped(
        Employment.objects.select_related("manager", "firm", "firm__jurisdiction"),
        user=user,
        manager=own_manager(),
        firm=own_firm(),
        bureau=in_jurisdiction("firm__jurisdiction"),
    )


#: A manager's current employment and the offers waiting for him (his overview): compiled once.
_OWN_OPEN_EMPLOYMENTS = PreparedQuery(
    lambda manager_id: (
        Employment.objects.select_related("firm")
        .filter(
            manager_id=manager_id,
            status__in=[Employment.Status.ACTIVE, Employment.Status.OFFERED],
        )
        .order_by("-created_at")
    ),
    manager_id=0,
)


def open_employments_of(*, manager: ManagerProfile) -> list[Employment]:
    """The manager's active employment and the offers waiting for him (with their firms), for
    the manager himself."""
    return _OWN_OPEN_EMPLOYMENTS.run(manager_id=manager.pk)


def employment_get_for(*, user: User, pk: int) -> Employment:
    return get_object_or_404(employment_list_for(user=user), pk=pk)


def current_employment(*, manager: ManagerProfile) -> Employment | None:
    return (
        Employment.objects.select_related("firm", "firm__jurisdiction")
        .filter(manager=manager, status=Employment.Status.ACTIVE)
        .first()
    )


def firm_members(*, firm: Firm) -> QuerySet[FirmMembership]:
    return firm.memberships.select_related("user").order_by("role", "user__email")


def firm_member_get_for(*, user: User, pk: int) -> FirmMembership:
    roles = roles_of(user)
    if roles.role != Role.FIRM:
        return get_object_or_404(FirmMembership.objects.none(), pk=pk)
    return get_object_or_404(FirmMembership.objects.filter(firm=roles.firm), pk=pk)


def firm_open_invitations(*, firm: Firm) -> QuerySet[FirmInvitation]:
    return firm.invitations.filter(
        accepted_at__isnull=True, revoked_at__isnull=True
    ).select_related("invited_by")


def firm_dashboard_counts(*, firm: Firm) -> dict[str, int]:
    return Employment.objects.filter(firm=firm).aggregate(
        current=Count("pk", filter=Q(status=Employment.Status.ACTIVE)),
        requested=Count("pk", filter=Q(status=Employment.Status.REQUESTED)),
        offered=Count("pk", filter=Q(status=Employment.Status.OFFERED)),
    )


def bureau_dashboard_counts(*, jurisdiction: Jurisdiction) -> dict[str, int]:
    path = jurisdiction.path
    return {
        "firms": Firm.objects.filter(jurisdiction__path__startswith=path).count(),
        "managers": ManagerProfile.objects.filter(jurisdiction__path__startswith=path).count(),
        "counties": Jurisdiction.objects.filter(path__startswith=path).count(),
    }


def identity_lookup_list_for(*, user: User) -> QuerySet[IdentityLookup]:
    """Look-ups by ID number a user may read: bureau staff those made from their jurisdiction
    (by its firms, providers and officials) and those of an ID number held by one of their
    managers; administrators all; nobody else any."""
    return scoped(
        IdentityLookup.objects.select_related("actor", "jurisdiction", "manager"),
        user=user,
        bureau=in_jurisdiction("jurisdiction", "manager__jurisdiction"),
    )


# --- staff invitations ---------------------------------------------------------------------------


def staff_invitation_jurisdictions_for(*, user: User) -> QuerySet[Jurisdiction]:
    """Where `user` may invite new bureau staff: an administrator anywhere, a prefecture or
    province official into the own jurisdiction and below; nobody else (county staff included)."""
    if not user.is_authenticated:
        return Jurisdiction.objects.none()
    if user.is_superuser:
        return Jurisdiction.objects.all()
    jurisdiction = roles_of(user).jurisdiction
    if jurisdiction is None or jurisdiction.level == Jurisdiction.Level.COUNTY:
        return Jurisdiction.objects.none()
    return jurisdiction_subtree(jurisdiction=jurisdiction)


def staff_invitation_list_for(*, user: User) -> QuerySet[StaffInvitation]:
    return StaffInvitation.objects.select_related("jurisdiction", "invited_by", "user").filter(
        jurisdiction__in=staff_invitation_jurisdictions_for(user=user)
    )


def staff_invitation_get_open(*, token: str) -> StaffInvitation | None:
    """The invitation whose link carries `token`, if it can still be accepted (not used, not
    expired); None for every other token alike."""
    return (
        StaffInvitation.objects.select_related("jurisdiction")
        .filter(
            token_hash=StaffInvitation.hash_token(token),
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .first()
    )


def staff_invitation_accepted_by(*, token: str, user: User) -> bool:
    """Whether `user` is the account that this (now used) link created: a second click on the
    link by the same person is no error."""
    return StaffInvitation.objects.filter(
        token_hash=StaffInvitation.hash_token(token), user_id=user.pk, used_at__isnull=False
    ).exists()
