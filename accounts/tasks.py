import secrets

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from . import pagechanges
from .models import FirmInvitation, StaffInvitation, User


@shared_task(
    name="accounts.send_firm_invitation",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_firm_invitation(invitation_id: int) -> None:
    invitation = FirmInvitation.objects.select_related("firm").filter(pk=invitation_id).first()
    if invitation is None or not invitation.is_open:
        return
    known = User.objects.filter(email__iexact=invitation.email).first()
    language = known.language if known else settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "invitation": invitation,
            "url": settings.PORTAL_BASE_URL
            + reverse("accounts:invitation_accept", args=[invitation.token]),
        }
        subject = render_to_string("accounts/email/invitation_subject.txt", context).strip()
        body = render_to_string("accounts/email/invitation_body.txt", context)
    send_mail(subject, body, None, [invitation.email])


@shared_task(
    name="accounts.send_staff_invitation",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_staff_invitation(invitation_id: int) -> None:
    """Mail a new one-time link for an open staff invitation.

    The token is made here and only its hash is stored, so the link exists nowhere but in the
    e-mail (not in the database, not in the broker). Each run makes a new token and so
    invalidates the link of any earlier run."""
    token = secrets.token_urlsafe(32)
    issued = StaffInvitation.objects.filter(
        pk=invitation_id, used_at__isnull=True, expires_at__gt=timezone.now()
    ).update(token_hash=StaffInvitation.hash_token(token))
    if not issued:
        return
    invitation = StaffInvitation.objects.select_related("jurisdiction").get(pk=invitation_id)
    # The invited person has no account (and no language setting) yet: the portal's language.
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "invitation": invitation,
            "url": settings.PORTAL_BASE_URL
            + reverse("accounts:staff_invitation_accept", args=[token]),
            "hours": StaffInvitation.VALID_FOR_HOURS,
        }
        subject = render_to_string("accounts/email/staff_invitation_subject.txt", context).strip()
        body = render_to_string("accounts/email/staff_invitation_body.txt", context)
    send_mail(subject, body, None, [invitation.email])


@shared_task(name="accounts.compact_page_changes")
def compact_page_changes() -> int:
    """Fold the log of page changes (accounts/pagechanges.py) so that reading a user's page
    version stays a few index entries, however busy his firm; how many rows went."""
    return pagechanges.compact()
