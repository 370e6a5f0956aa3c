"""The notice: a message for one user in the portal, also sent by e-mail. Written in the same
transaction as the change that causes it (an outbox); sending happens after the commit."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Notice(models.Model):
    """The text is rendered from `kind` and `params` when shown (see `wording.py`), so it reads
    in the reader's language. (`year`, `milestone`) is the notice's key per recipient and kind:
    a workflow event ("event-<id>"), a reminder's milestone ("open", "d30", a date for daily
    digests), a status decision ("close", "entry-<id>"). The same key is never written twice."""

    class Kind(models.TextChoices):
        FILING_SUBMITTED = "filing_submitted", _("Filing submitted")
        FILING_TO_REVIEW = "filing_to_review", _("Filing awaiting your review")
        FILING_WITHDRAWN = "filing_withdrawn", _("Filing withdrawn")
        FILING_FORWARDED = "filing_forwarded", _("Filing forwarded to the bureau")
        FILING_RETURNED = "filing_returned", _("Filing returned")
        FILING_APPROVED = "filing_approved", _("Filing approved")
        # Reminders of the daily job (unique per recipient, year, kind and milestone).
        REMIND_NOT_SUBMITTED = "remind_not_submitted", _("Reminder: filing not submitted")
        REMIND_HOURS_SHORT = "remind_hours_short", _("Reminder: study hours short")
        REMIND_RETURNED = "remind_returned", _("Reminder: returned filing not resubmitted")
        REMIND_FIRM_DIGEST = "remind_firm_digest", _("Reminder: filings awaiting the firm")
        # During the study year, on REGISTRY_STUDY_REMINDER_DATES: hours still short.
        REMIND_STUDY_HOURS = "remind_study_hours", _("Reminder: study hours short this year")
        # The year's registry status, decided when the window closes.
        STATUS_ABNORMAL = "status_abnormal", _("Registry status abnormal")
        STATUS_NORMAL = "status_normal", _("Registry status back to normal")
        FIRM_ABNORMAL = "firm_abnormal", _("Managers of the firm abnormal")

    class EmailState(models.TextChoices):
        PENDING = "pending", pgettext_lazy("e-mail", "To send")
        SENDING = "sending", pgettext_lazy("e-mail", "Sending")
        SENT = "sent", pgettext_lazy("e-mail", "Sent")
        FAILED = "failed", pgettext_lazy("e-mail", "Failed")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notices",
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    params = models.JSONField(default=dict, blank=True)
    link = models.CharField(max_length=200, blank=True)
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    milestone = models.CharField(_("milestone"), max_length=32)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    email_state = models.CharField(
        _("e-mail"), max_length=16, choices=EmailState.choices, default=EmailState.PENDING
    )
    email_error = models.TextField(_("e-mail error"), blank=True)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)
    # When a worker claimed the e-mail (pending/failed → sending).
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)

    class Meta:
        db_table = "notifications_notice"
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-pk"]
        constraints = [
            # A retried job, a second beat or a double click notifies nobody twice.
            models.UniqueConstraint(
                fields=["recipient", "year", "kind", "milestone"],
                name="one_notice_per_recipient_year_kind_milestone",
                nulls_distinct=False,
            ),
        ]
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"],
                name="notice_unread_idx",
                condition=Q(read_at__isnull=True),
            ),
            models.Index(fields=["recipient", "-created_at"], name="notice_recipient_idx"),
            models.Index(
                fields=["email_state", "created_at"],
                name="notice_email_todo_idx",
                condition=~Q(email_state="sent"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} {self.kind}"

    @property
    def from_workflow(self) -> bool:
        return self.milestone.startswith(EVENT_PREFIX)


#: The milestone of a workflow event's notices: "event-<review event id>".
EVENT_PREFIX = "event-"
