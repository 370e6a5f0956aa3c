"""A user's role, read from explicit membership rows (never from is_staff alone)."""

from __future__ import annotations

from enum import StrEnum

from django.utils.functional import cached_property


class Role(StrEnum):
    ANONYMOUS = "anonymous"
    MANAGER = "manager"
    FIRM = "firm"
    BUREAU = "bureau"
    PROVIDER = "provider"
    ADMIN = "admin"


class UserRoles:
    """The memberships of one user, loaded once per request (see `roles_of`)."""

    def __init__(self, user):
        self.user = user

    @cached_property
    def firm_membership(self):
        from .models import FirmMembership

        if not self.user.is_authenticated:
            return None
        return FirmMembership.objects.select_related("firm").filter(user=self.user).first()

    @cached_property
    def bureau_membership(self):
        from .models import BureauMembership

        if not self.user.is_authenticated:
            return None
        return (
            BureauMembership.objects.select_related("jurisdiction").filter(user=self.user).first()
        )

    @cached_property
    def provider_staff(self):
        from training.models import ProviderStaff

        if not self.user.is_authenticated:
            return None
        return ProviderStaff.objects.select_related("provider").filter(user=self.user).first()

    @cached_property
    def manager_profile(self):
        from .models import ManagerProfile

        if not self.user.is_authenticated:
            return None
        return ManagerProfile.objects.select_related("jurisdiction").filter(user=self.user).first()

    @cached_property
    def role(self) -> Role:
        if not self.user.is_authenticated:
            return Role.ANONYMOUS
        if self.bureau_membership:
            return Role.BUREAU
        if self.firm_membership:
            return Role.FIRM
        if self.provider_staff:
            return Role.PROVIDER
        if self.user.is_superuser:
            return Role.ADMIN
        return Role.MANAGER

    @property
    def firm(self):
        return self.firm_membership.firm if self.firm_membership else None

    @property
    def is_firm_admin(self) -> bool:
        from .models import FirmMembership

        return bool(self.firm_membership and self.firm_membership.role == FirmMembership.Role.ADMIN)

    @property
    def jurisdiction(self):
        return self.bureau_membership.jurisdiction if self.bureau_membership else None


def roles_of(user) -> UserRoles:
    """The cached roles of a user (one set of queries per user object)."""
    roles = getattr(user, "_portal_roles", None)
    if roles is None or roles.user is not user:
        roles = UserRoles(user)
        try:
            user._portal_roles = roles
        except AttributeError:  # AnonymousUser is a plain object too; this is just a cache
            pass
    return roles
