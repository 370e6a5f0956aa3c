"""The one access policy: which rows of a list a user may see, and which actions a user may take
on an employment. Every `*_list_for` selector starts with `scoped`; services and pages ask the
same `can_*` functions, so a template never repeats a service's rule.

The switch, once for every list: an anonymous visitor sees nothing, an administrator
everything, every other user what the rule for the user's role gives (no rule for the role:
nothing). Outside that, an object answers 404 (the selectors' `*_get_for`).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import Q, QuerySet

from .models import Employment, User
from .roles import Role, UserRoles, roles_of

#: A rule: the viewer's roles → the condition on the rows (None: no rows).
Rule = Callable[[UserRoles], Q | None]


def scoped(
    qs: QuerySet,
    *,
    user: User,
    manager: Rule | None = None,
    firm: Rule | None = None,
    bureau: Rule | None = None,
    provider: Rule | None = None,
    admin: bool = True,
) -> QuerySet:
    """`qs` narrowed to what `user` may see, by role (see the module's docstring)."""
    if not user.is_authenticated:
        return qs.none()
    roles = roles_of(user)
    if user.is_superuser and admin and not (roles.role == Role.PROVIDER and provider):
        return qs
    rule = {
        Role.MANAGER: manager,
        Role.FIRM: firm,
        Role.BUREAU: bureau,
        Role.PROVIDER: provider,
    }.get(roles.role)
    condition = rule(roles) if rule is not None else None
    return qs.none() if condition is None else qs.filter(condition)


# --- the usual rules -------------------------------------------------------------------------


def in_jurisdiction(*paths: str) -> Rule:
    """Bureau staff: rows whose jurisdiction (reached through any of `paths`, e.g.
    "manager__jurisdiction") is theirs or below."""

    def rule(roles: UserRoles) -> Q:
        prefix = roles.jurisdiction.path
        condition = Q()
        for path in paths:
            condition |= Q(**{f"{path}__path__startswith": prefix})
        return condition

    return rule


def own_manager(field: str = "manager") -> Rule:
    """A manager: rows of his own profile."""

    def rule(roles: UserRoles) -> Q | None:
        profile = roles.manager_profile
        return Q(**{field: profile}) if profile is not None else None

    return rule


def own_firm(field: str = "firm") -> Rule:
    """A firm reviewer: rows of the own firm."""

    def rule(roles: UserRoles) -> Q:
        return Q(**{field: roles.firm})

    return rule


def employed_by(firm, *, via: str = "") -> Q:
    """Managers (or rows reached through `via`, e.g. "manager") currently employed by `firm`:
    the one definition of "the firm's managers" for pages, queues and notices."""
    prefix = f"{via}__" if via else ""
    return Q(
        **{
            f"{prefix}employments__firm": firm,
            f"{prefix}employments__status": Employment.Status.ACTIVE,
        }
    )


def employing_firm(via: str = "") -> Rule:
    """A firm reviewer: rows of the managers his firm employs now."""

    def rule(roles: UserRoles) -> Q:
        return employed_by(roles.firm, via=via)

    return rule


# --- employment actions ----------------------------------------------------------------------


def _is_firm_of(roles: UserRoles, employment: Employment) -> bool:
    return (
        roles.role == Role.FIRM and roles.firm is not None and roles.firm.pk == employment.firm_id
    )


def _is_manager_of(roles: UserRoles, employment: Employment) -> bool:
    profile = roles.manager_profile
    return profile is not None and profile.pk == employment.manager_id


def can_answer_employment(*, user: User, employment: Employment) -> bool:
    """Confirm or decline: the side that did not propose (the firm a manager's request, the
    manager a firm's offer), while it is pending."""
    roles = roles_of(user)
    if employment.status == Employment.Status.REQUESTED:
        return _is_firm_of(roles, employment)
    if employment.status == Employment.Status.OFFERED:
        return _is_manager_of(roles, employment)
    return False


def can_cancel_employment(*, user: User, employment: Employment) -> bool:
    """Withdraw: the side that proposed, while it is pending."""
    roles = roles_of(user)
    if employment.status == Employment.Status.OFFERED:
        return _is_firm_of(roles, employment)
    if employment.status == Employment.Status.REQUESTED:
        return _is_manager_of(roles, employment)
    return False


def can_end_employment(*, user: User, employment: Employment) -> bool:
    """End: either side of a current employment."""
    roles = roles_of(user)
    return employment.status == Employment.Status.ACTIVE and (
        _is_firm_of(roles, employment) or _is_manager_of(roles, employment)
    )


def employment_actions(*, user: User, employment: Employment) -> set[str]:
    """What `user` may do with `employment` now, for the pages: {"confirm", "decline",
    "cancel", "end"} or fewer."""
    actions = set()
    if can_answer_employment(user=user, employment=employment):
        actions |= {"confirm", "decline"}
    if can_cancel_employment(user=user, employment=employment):
        actions.add("cancel")
    if can_end_employment(user=user, employment=employment):
        actions.add("end")
    return actions


# --- personal data -----------------------------------------------------------------------------


def sees_full_id_numbers(user: User) -> bool:
    """Whether `user` reads ID numbers in full (bureau staff and administrators, on the rows
    their scope gives them); everyone else reads them masked (433101********1234)."""
    roles = roles_of(user)
    return roles.role in (Role.BUREAU, Role.ADMIN)
