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
        FILING_EXTENDED = "filing_extended", _("Filing deadline extended")
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
        # Registration (执业登记) and revocation.
        REGISTRATION_TO_REVIEW = "registration_to_review", _("Registration awaiting your review")
        REGISTRATION_ISSUED = "registration_issued", _("Registration number issued")
        REGISTRATION_REFUSED = "registration_refused", _("Registration refused")
        REGISTRATION_CANCELLED = "registration_cancelled", _("Registration cancelled")
        FILING_REVOKED = "filing_revoked", _("Filing approval revoked")
        # Employers: a change concerning a manager the firm employs.
        FIRM_STATUS_CHANGED = "firm_status_changed", _("An employee's registry status changed")
        FIRM_GRADE_CHANGED = "firm_grade_changed", _("Employees' credit grades changed")
        # The credit file (credit app): the key-supervision list, objections, repair.
        SUPERVISION_LISTED = "supervision_listed", _("Put on the key-supervision list")
        SUPERVISION_ENDED = "supervision_ended", _("Taken off the key-supervision list")
        FIRM_SUPERVISION = (
            "firm_supervision",
            _("A manager of the firm on the key-supervision list"),
        )
        FIRM_SUPERVISION_ENDED = (
            "firm_supervision_ended",
            _("A manager of the firm off the key-supervision list"),
        )
        BUREAU_SUPERVISION = "bureau_supervision", _("A manager put on the key-supervision list")
        ASSESSMENT_FAILED = "assessment_failed", _("Failed assessment written to the credit file")
        OBJECTION_SUBMITTED = "objection_submitted", _("Objection awaiting decision")
        OBJECTION_DECIDED = "objection_decided", _("Objection decided")
        REPAIR_SUBMITTED = "repair_submitted", _("Credit repair awaiting decision")
        REPAIR_DECIDED = "repair_decided", _("Credit repair decided")
        # Sampled audits of self-reported study records (training.audits).
        AUDIT_REQUESTED = "audit_requested", _("Study records selected for audit")
        AUDIT_UPHELD = "audit_upheld", _("Audited study record upheld")
        AUDIT_REJECTED = "audit_rejected", _("Audited study record rejected")

    class EmailState(models.TextChoices):
        PENDING = "pending", pgettext_lazy("e-mail", "To send")
        SENDING = "sending", pgettext_lazy("e-mail", "Sending")
        SENT = "sent", pgettext_lazy("e-mail", "Sent")
        FAILED = "failed", pgettext_lazy("e-mail", "Failed")

    class SmsState(models.TextChoices):
        NOT_WANTED = "not_wanted", pgettext_lazy("sms", "Not sent by SMS")
        PENDING = "pending", pgettext_lazy("sms", "To send")
        SENDING = "sending", pgettext_lazy("sms", "Sending")
        SENT = "sent", pgettext_lazy("sms", "Sent")
        FAILED = "failed", pgettext_lazy("sms", "Failed")

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
    # The text message (reminders and returns only, to a verified phone without opt-out): its
    # state is decided when the notice is written and claimed like the e-mail's.
    sms_state = models.CharField(
        _("SMS"), max_length=16, choices=SmsState.choices, default=SmsState.NOT_WANTED
    )
    sms_error = models.TextField(_("SMS error"), blank=True)
    smsed_at = models.DateTimeField(_("SMS sent"), null=True, blank=True)
    sms_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    sms_attempts = models.PositiveSmallIntegerField(_("SMS attempts"), default=0)

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
            models.Index(
                fields=["sms_state", "created_at"],
                name="notice_sms_todo_idx",
                condition=Q(sms_state__in=["pending", "failed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} {self.kind}"

    @property
    def from_workflow(self) -> bool:
        return self.milestone.startswith(EVENT_PREFIX)


#: The kinds also sent as a text message: the reminders and a returned filing.
SMS_KINDS = frozenset(
    {
        Notice.Kind.REMIND_NOT_SUBMITTED,
        Notice.Kind.REMIND_HOURS_SHORT,
        Notice.Kind.REMIND_RETURNED,
        Notice.Kind.REMIND_FIRM_DIGEST,
        Notice.Kind.REMIND_STUDY_HOURS,
        Notice.Kind.FILING_RETURNED,
    }
)

#: The milestone of a workflow event's notices: "event-<review event id>".
EVENT_PREFIX = "event-"
