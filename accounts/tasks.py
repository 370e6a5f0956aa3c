from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from .models import FirmInvitation, User


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
