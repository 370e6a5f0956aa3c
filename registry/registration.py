"""Who is told of a registration step (执业登记: sent to the bureau, number issued, refused,
cancelled). The steps themselves are `accounts.services.registration_*`; accounts sits below the
notices, so the registry hands this function over at start-up (`RegistryConfig.ready`)."""

from __future__ import annotations

from django.urls import reverse

from accounts.models import RegistrationEvent
from accounts.selectors import current_employment
from notifications.models import Notice
from notifications.routing import bureau_reviewers, firm_reviewers
from notifications.services import NewNotice, notices_create

Action = RegistrationEvent.Action
Kind = Notice.Kind


def registration_notices(*, event: RegistrationEvent) -> None:
    """The notices of one registration step, in its transaction: the bureau (nearest staff) of
    a registration to review; the manager of his number, a refusal or a cancellation; the
    reviewers of his current firm of a cancellation."""
    manager = event.manager
    own = reverse("accounts:profile")
    out: list[tuple[int, str, str]] = []
    if event.action in (Action.TO_BUREAU, Action.RESUBMITTED):
        if manager.jurisdiction_id:
            link = reverse("admin:accounts_pendingregistration_change", args=[manager.pk])
            staff = bureau_reviewers(jurisdiction=manager.jurisdiction)
            out += [
                (pk, Kind.REGISTRATION_TO_REVIEW, link) for pk in staff.values_list("pk", flat=True)
            ]
    elif event.action == Action.ISSUED:
        out.append((manager.user_id, Kind.REGISTRATION_ISSUED, own))
    elif event.action == Action.REFUSED:
        out.append((manager.user_id, Kind.REGISTRATION_REFUSED, own))
    elif event.action == Action.CANCELLED:
        out.append((manager.user_id, Kind.REGISTRATION_CANCELLED, own))
        employment = current_employment(manager=manager)
        if employment is not None:
            link = reverse("overview:firm_managers")
            out += [
                (pk, Kind.REGISTRATION_CANCELLED, link)
                for pk in firm_reviewers(firm_id=employment.firm_id).values_list("pk", flat=True)
            ]
    params = {
        "name": manager.real_name,
        "number": manager.registration_number or "",
        "reason": event.reason,
    }
    notices_create(
        NewNotice(
            recipient_id=user_id,
            kind=kind,
            link=link,
            params=params,
            year=None,
            milestone=f"reg-{event.pk}",
        )
        for user_id, kind, link in out
    )
