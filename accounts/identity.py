"""Look-ups of a person by ID number, without making the portal an identity oracle.

Every place that finds a manager by ID number (a firm's employment offer, the firm's and the
bureau's search, the manager's own sign-up, a provider's completions report) goes through these
pieces:

- `lookup_allow`: a rate limit per account and kind of look-up, counted in Redis and failing
  *closed* (when the count cannot be kept, the look-up is refused rather than left unlimited);
- `names_match`: the one comparison of a typed name with the registered one, so that "unknown ID
  number" and "known ID number, other name" are the same answer everywhere;
- `lookup_entry` / `lookup_record`: the row of `IdentityLookup` that says who looked up what, when,
  and whether it matched, for the bureau staff of the area to read.

The ID number's blind index (`accounts.services.id_number_hash`) is computed by the caller: this
module sits below the services and never imports them.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.ratelimit import Limit, hit

from .models import IdentityLookup, Jurisdiction, ManagerProfile, User
from .roles import Role, roles_of
from .validators import mask_id_number

Kind = IdentityLookup.Kind

RATE_LIMITED = _(
    "Too many look-ups by ID number from this account. Try again later; if you need more, "
    "contact your housing bureau."
)


def lookup_limit(kind: str) -> Limit:
    """The limit of one kind of look-up per account (settings `IDENTITY_LOOKUP_*`). A provider's
    report counts once per file; every other look-up once per person looked up."""
    if kind == Kind.PROVIDER_IMPORT:
        count = settings.IDENTITY_LOOKUP_IMPORT_LIMIT
    else:
        count = settings.IDENTITY_LOOKUP_LIMIT
    return Limit(
        scope=f"identity:{kind}",
        limit=count,
        period=settings.IDENTITY_LOOKUP_PERIOD,
        fail_open=False,
    )


def lookup_allow(*, actor: User, kind: str) -> None:
    """Count one look-up of `kind` by `actor`; `DomainError` (code "rate_limited") past the
    limit, or when Redis cannot keep the count."""
    if not hit(lookup_limit(kind), f"user:{actor.pk}"):
        raise DomainError(RATE_LIMITED, code="rate_limited")


def names_match(typed: str, registered: str) -> bool:
    """Whether a typed name is the registered one, ignoring every kind of blank (full-width
    spaces included)."""
    return "".join((typed or "").split()) == "".join((registered or "").split())


def actor_jurisdiction(actor: User) -> Jurisdiction | None:
    """The jurisdiction whose bureau watches what `actor` looks up: a firm's, a provider's, an
    official's own; none for a manager (his look-up is seen by the holder's bureau instead)."""
    roles = roles_of(actor)
    if roles.role == Role.FIRM:
        return roles.firm.jurisdiction
    if roles.role == Role.BUREAU:
        return roles.jurisdiction
    if roles.role == Role.PROVIDER:
        return roles.provider_staff.provider.jurisdiction
    return None


def lookup_entry(
    *,
    actor: User,
    kind: str,
    id_number: str,
    digest: str,
    name: str = "",
    holder: ManagerProfile | None,
    matched: bool,
    jurisdiction: Jurisdiction | None = None,
) -> IdentityLookup:
    """An unsaved record of one look-up (for `bulk_create`). `holder` is the manager registered
    with this ID number, whether or not the name matched; `matched` is what the answer said."""
    return IdentityLookup(
        actor=actor,
        kind=kind,
        id_number_masked=mask_id_number(id_number),
        id_number_hash=digest,
        name_typed=(name or "").strip()[:64],
        matched=matched,
        jurisdiction=jurisdiction,
        manager=holder,
    )


def lookup_record(**kwargs) -> IdentityLookup:
    """Save the record of one look-up (see `lookup_entry`); the actor's jurisdiction by default."""
    if "jurisdiction" not in kwargs:
        kwargs["jurisdiction"] = actor_jurisdiction(kwargs["actor"])
    entry = lookup_entry(**kwargs)
    entry.save()
    return entry
