"""A user's role, read from explicit membership rows (never from is_staff alone)."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.db.models import BigIntegerField, BooleanField, Expression, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.functional import LazyObject, cached_property, empty

from core.prepared import PreparedQuery

from . import pagechanges
from .models import FirmMembership, User


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

    def __init__(self, user, *, loaded=None):
        self.user = user
        if loaded is not None:  # the user row was read with its roles (`user_with_roles`)
            self.__dict__["_loaded"] = loaded

    @cached_property
    def _loaded(self):
        """The user row with every membership joined (None for an anonymous visitor)."""
        if not self.user.is_authenticated:
            return None
        return users_with_roles().filter(pk=self.user.pk).first()

    def annotation(self, name: str, default=None):
        """A value read in the same query as the roles (see `roles_annotation_register`)."""
        loaded = self._loaded
        return getattr(loaded, name, default) if loaded is not None else default

    @property
    def page_version(self) -> int | None:
        """The version of the data this user's pages show (accounts/pagechanges.py)."""
        return self.annotation(PAGE_VERSION)

    @property
    def has_totp(self) -> bool:
        """Whether the account has a TOTP authenticator (staff_auth's second factor)."""
        return bool(self.annotation("has_totp_authenticator", False))

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


#: Values a layer above accounts has read with the roles: name → a function that returns the
#: expression (on the user) to annotate. See `roles_annotation_register`.
_ANNOTATIONS: dict[str, Callable[[], Expression]] = {}


def roles_annotation_register(name: str, expression: Callable[[], Expression]) -> None:
    """Read a value of a layer above accounts (the unread notices) in the one query that loads a
    user's roles, so a page pays no query of its own for it. Called once at start-up (the
    app's `ready`); `expression` returns an expression on the user row, e.g. a counting
    subquery as SQL naming the user table as `user_table_sql()` does."""
    _ANNOTATIONS[name] = expression


def user_table_sql() -> str:
    """The user table as the roles query names it, for the annotations of its one query (see
    `users_with_roles`: they are written as SQL, which Django need not compile)."""
    return connection.ops.quote_name(get_user_model()._meta.db_table)


def _has_totp_sql() -> RawSQL:
    meta = Authenticator._meta
    return RawSQL(
        f"EXISTS (SELECT 1 FROM {connection.ops.quote_name(meta.db_table)} a"
        f" WHERE a.{connection.ops.quote_name(meta.get_field('user').column)}"
        f" = {user_table_sql()}.{connection.ops.quote_name(get_user_model()._meta.pk.column)}"
        f" AND a.{connection.ops.quote_name(meta.get_field('type').column)} = %s)",
        (Authenticator.Type.TOTP,),
        output_field=BooleanField(),
    )


PAGE_VERSION = "page_version"


def _page_version_sql() -> RawSQL:
    user_id = f"{user_table_sql()}.{connection.ops.quote_name(get_user_model()._meta.pk.column)}"
    return RawSQL(pagechanges.version_sql(user_id), (), output_field=BigIntegerField())


def users_with_roles() -> QuerySet[User]:
    """Users with every membership joined and the registered annotations: what one request
    needs to know about its user, in one query.

    The annotations are plain SQL on the user table (not ORM subqueries): this query runs on
    every request, and compiling two ORM subqueries cost more CPU (about 1.2 ms) than the rest
    of it. So it must stay a top-level query (the annotations name the user table)."""
    return (
        get_user_model()
        ._default_manager.select_related(*UserRoles._RELATIONS)
        .annotate(
            has_totp_authenticator=_has_totp_sql(),
            **{PAGE_VERSION: _page_version_sql()},
            **{name: expression() for name, expression in _ANNOTATIONS.items()},
        )
    )


#: The session's user with his roles: compiled once (core.prepared), run on every request.
_USER_WITH_ROLES = PreparedQuery(
    lambda user_id: users_with_roles().filter(pk=user_id).order_by()[:1], user_id=0
)


def user_with_roles(user_id) -> User | None:
    """The user of a session with its roles read in the same query (the authentication
    backends' `get_user`, see backends.py)."""
    try:
        user_id = int(user_id)
    except (TypeError, ValueError):
        return None
    found = _USER_WITH_ROLES.run(user_id=user_id)
    user = found[0] if found else None
    if user is not None:
        user._portal_roles = UserRoles(user, loaded=user)
    return user


def roles_of(user) -> UserRoles:
    """The cached roles of a user (one set of queries per user object)."""
    if isinstance(user, LazyObject):  # request.user: the roles belong to the user inside
        if user._wrapped is empty:
            user._setup()
        user = user._wrapped
    roles = getattr(user, "_portal_roles", None)
    if roles is None or roles.user is not user:
        roles = UserRoles(user)
        try:
            user._portal_roles = roles
        except AttributeError:  # AnonymousUser is a plain object too; this is just a cache
            pass
    return roles


def page_identity(user) -> tuple | None:
    """What a kept page (core.pagecache) of this user depends on besides its path, language and
    day: who he is, his roles, what was read with them (the unread notices) and the version of
    his data (accounts/pagechanges.py). None (render it every time) for a user not read with
    his roles, and for a superuser (who sees what is no one's data)."""
    roles = roles_of(user)
    version = roles.page_version
    if version is None or user.is_superuser:
        return None
    firm, profile = roles.firm, roles.manager_profile
    return (
        user.pk,
        user.email,
        user.is_staff,
        roles.role.value,
        firm.pk if firm is not None else None,
        profile.pk if profile is not None else None,
        *(roles.annotation(name) for name in sorted(_ANNOTATIONS)),
        version,
    )
