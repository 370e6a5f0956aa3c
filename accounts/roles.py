"""A user's role, read from explicit membership rows (never from is_staff alone)."""

from __future__ import annotations

from enum import StrEnum

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.utils.functional import cached_property

from .models import FirmMembership


class Role(StrEnum):
    ANONYMOUS = "anonymous"
    MANAGER = "manager"
    FIRM = "firm"
    BUREAU = "bureau"
    PROVIDER = "provider"
    ADMIN = "admin"


class UserRoles:
    """The memberships of one user, loaded once per request in one query (see `roles_of`).

    Every membership is a one-to-one row on the user (firm, bureau, training provider, the
    manager's profile), so one SELECT with outer joins reads them all. The provider's staff row
    belongs to the training app; it is reached through its reverse accessor, so this module
    imports nothing above accounts."""

    _RELATIONS = (
        "firm_membership__firm",
        "bureau_membership__jurisdiction",
        "provider_staff__provider",
        "manager_profile__jurisdiction",
    )

    def __init__(self, user):
        self.user = user

    @cached_property
    def _loaded(self):
        """The user row with every membership joined (None for an anonymous visitor)."""
        if not self.user.is_authenticated:
            return None
        return (
            get_user_model()
            ._default_manager.select_related(*self._RELATIONS)
            .filter(pk=self.user.pk)
            .first()
        )

    def _related(self, name: str):
        loaded = self._loaded
        if loaded is None:
            return None
        try:
            return getattr(loaded, name)
        except ObjectDoesNotExist:  # no such membership (select_related cached the absence)
            return None

    @cached_property
    def firm_membership(self):
        return self._related("firm_membership")

    @cached_property
    def bureau_membership(self):
        return self._related("bureau_membership")

    @cached_property
    def provider_staff(self):
        return self._related("provider_staff")

    @cached_property
    def manager_profile(self):
        return self._related("manager_profile")

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
