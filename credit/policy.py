"""The credit policy in force for a jurisdiction: its own, else the nearest ancestor's, else the
defaults (an unsaved `CreditPolicy`, whose field defaults are the published figures)."""

from __future__ import annotations

from django.db import connection

from accounts.models import Jurisdiction
from core.jurisdictions import nearest, nearest_in

from .models import CreditPolicy

#: The figures every calculation reads, in the order of `policies_by_jurisdiction`'s columns.
FIGURES = [
    f.name
    for f in CreditPolicy._meta.get_fields()
    if getattr(f, "get_internal_type", lambda: "")() == "PositiveSmallIntegerField"
]


def default_policy() -> CreditPolicy:
    return CreditPolicy()


def policy_for(*, jurisdiction: Jurisdiction | None) -> CreditPolicy:
    """One query: the ancestors' codes are in the jurisdiction's path."""
    if jurisdiction is None:
        return default_policy()
    own = nearest_in(
        CreditPolicy.objects.select_related("jurisdiction"), path=jurisdiction.path
    ).first()
    return own or default_policy()


def policies_by_jurisdiction() -> dict[int, CreditPolicy]:
    """Every jurisdiction's policy in force, in two queries (for the bulk recompute)."""
    by_code = {p.jurisdiction.code: p for p in CreditPolicy.objects.select_related("jurisdiction")}
    default = default_policy()
    return {
        pk: nearest(path, by_code) or default
        for pk, path in Jurisdiction.objects.values_list("pk", "path")
    }


#: One advisory lock for the recompute and the listing: two runs at once run one after the other.
_LOCK_KEY = 0x4352_4544  # "CRED"


def lock(*, wait: bool = True) -> bool:
    """Take the credit lock for the transaction (and spare the planner's JIT: the statements
    are few and large). Without `wait`: False at once if another run holds it."""
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        else:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_LOCK_KEY])
            if not cursor.fetchone()[0]:
                return False
        cursor.execute("SET LOCAL jit = off")
    return True
