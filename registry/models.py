"""The annual filing (年度执业信息登记备案): windows, filings, proofs, review events, the year's
registry status, the credit record and conduct records.

The workflow itself lives in `services.py` (one function per transition); the models only hold
fields, choices and constraints."""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q, Value
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from accounts.models import Firm, Jurisdiction, ManagerProfile
from core.uploads import private_upload_to


class FilingWindow(models.Model):
    """When a jurisdiction's managers may submit the year's filing. A county without its own
    window uses its prefecture's, then its province's, then 1 January to 31 March."""

    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("jurisdiction"),
        on_delete=models.PROTECT,
        related_name="filing_windows",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    opens_on = models.DateField(_("opens on"))
    closes_on = models.DateField(_("closes on"), help_text=_("The last day submissions are taken."))
    return_grace_days = models.PositiveSmallIntegerField(
        _("days given after a late return"),
        null=True,
        blank=True,
        help_text=_(
            "A filing returned in the last days of the window, or after the close while it was "
            "under review, extends its manager's deadline by this many days. Empty: the "
            "setting's default (7)."
        ),
    )

    class Meta:
        verbose_name = _("filing window")
        verbose_name_plural = _("filing windows")
        ordering = ["-year", "jurisdiction__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "year"],
                name="one_filing_window_per_year",
                violation_error_message=_("This jurisdiction already has a window for the year."),
            ),
            models.CheckConstraint(
                condition=Q(closes_on__gte=models.F("opens_on")),
                name="filing_window_closes_after_opening",
                violation_error_message=_("The window must close on or after the day it opens."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.jurisdiction} {self.year}"


class FilingExtension(models.Model):
    """A later deadline granted by bureau staff to one manager for one year."""

    manager = models.ForeignKey(
        ManagerProfile,
        verbose_name=_("manager"),
        on_delete=models.PROTECT,
        related_name="filing_extensions",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    until = models.DateField(_("new deadline"))
    reason = models.TextField(_("reason"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("granted"), auto_now=True)

    class Meta:
        verbose_name = _("filing deadline extension")
        verbose_name_plural = _("filing deadline extensions")
        ordering = ["-year", "-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["manager", "year"],
                name="one_extension_per_manager_and_year",
                violation_error_message=_("This manager already has an extension for the year."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.manager} {self.year} → {self.until}"


class AnnualFiling(models.Model):
    """One manager's filing for one year. At submission it freezes `snapshot`: the profile, the
    firm and the year's compliance as the reviewers saw them."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        AWAITING_FIRM = "awaiting_firm", _("Awaiting firm review")
        AWAITING_BUREAU = "awaiting_bureau", _("Awaiting bureau review")
        APPROVED = "approved", _("Approved (filed)")
        RETURNED = "returned", _("Returned")
        # 撤销: the bureau withdrew its approval, with a reason. Final; the certificate's code
        # stays so that /verify/ can say so.
        REVOKED = "revoked", pgettext_lazy("filing", "Revoked")

    #: States in which the manager may change the filing and its proofs.
    EDITABLE = (Status.DRAFT, Status.RETURNED)
    #: States in which the filing is under review or decided: the year's records are frozen.
    LOCKED = (Status.AWAITING_FIRM, Status.AWAITING_BUREAU, Status.APPROVED, Status.REVOKED)

    manager = models.ForeignKey(
        ManagerProfile, verbose_name=_("manager"), on_delete=models.PROTECT, related_name="filings"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    # The firm and jurisdiction that review the filing, fixed at each submission.
    firm = models.ForeignKey(
        Firm,
        verbose_name=_("firm"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="filings",
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("jurisdiction"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="filings",
    )
    snapshot = models.JSONField(_("snapshot at submission"), default=dict, blank=True)
    round = models.PositiveSmallIntegerField(_("submissions"), default=0)
    return_reason = models.TextField(_("reason for the last return"), blank=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    firm_approved_at = models.DateTimeField(_("forwarded by the firm"), null=True, blank=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    certificate_code = models.CharField(
        _("certificate code"), max_length=16, unique=True, null=True, blank=True
    )
    # Triage (stored at submission and return, so the bureau's list filters without reading
    # the snapshot): the hours were short when submitted; how many times it was returned.
    hours_short_at_submission = models.BooleanField(
        _("hours short at submission"), default=False, db_default=False
    )
    return_count = models.PositiveSmallIntegerField(_("times returned"), default=0, db_default=0)
    # The current CE proof was uploaded, not the portal's transcript (set at submission, when
    # the proofs freeze); a current proof's content is also a current proof of another manager
    # (set at submission, and on this filing and the other's when such an upload is made).
    ce_uploaded = models.BooleanField(_("CE proof uploaded"), default=False, db_default=False)
    duplicate_document = models.BooleanField(
        _("document also under another manager"), default=False, db_default=False
    )
    # The official who is to review it ("my queue").
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_filings",
    )
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked on"), null=True, blank=True)
    revoke_reason = models.TextField(
        _("reason for the revocation"), blank=True, default="", db_default=""
    )
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords(verbose_name=_("filing change"), excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("annual filing")
        verbose_name_plural = _("annual filings")
        ordering = ["-year", "-submitted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["manager", "year"],
                name="one_filing_per_manager_and_year",
                violation_error_message=_("There is already a filing for this manager and year."),
            ),
            models.CheckConstraint(
                condition=~Q(status="approved")
                | Q(certificate_code__isnull=False, approved_at__isnull=False),
                name="approved_filing_has_certificate",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "year"], name="filing_status_year_idx"),
            models.Index(fields=["firm", "status"], name="filing_firm_status_idx"),
            models.Index(fields=["jurisdiction", "status"], name="filing_jurisdiction_status_idx"),
            # The bureau's list in its order (forwarded first), all of it or of one status: a
            # province's or prefecture's first page is read from here instead of sorting all
            # its filings.
            models.Index(fields=["firm_approved_at", "id"], name="filing_forwarded_idx"),
            models.Index(
                fields=["status", "firm_approved_at", "id"], name="filing_status_forwarded_idx"
            ),
            models.Index(fields=["assigned_to", "status"], name="filing_assigned_status_idx"),
        ]

    def __str__(self) -> str:
        return _("%(name)s · %(year)s filing") % {"name": self.manager, "year": self.year}

    @property
    def is_editable(self) -> bool:
        return self.status in self.EDITABLE


class FilingProof(models.Model):
    """An uploaded proof of a filing. Replacing one keeps the old row (`replaced_at` set)."""

    class Kind(models.TextChoices):
        ID_CARD = "id_card", _("ID card")
        DIPLOMA = "diploma", _("Highest diploma")
        TITLE = "title", _("Title or skill-level certificate")
        CE = "ce", _("Continuing-education proof")
        CONTRACT = "contract", _("Labour contract with the current firm")

    filing = models.ForeignKey(
        AnnualFiling, verbose_name=_("filing"), on_delete=models.PROTECT, related_name="proofs"
    )
    kind = models.CharField(_("proof"), max_length=16, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=private_upload_to("proofs"), max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    mime = models.CharField(max_length=32, editable=False)
    size = models.PositiveIntegerField(_("size"), default=0)
    generated = models.BooleanField(
        _("generated by the portal"), default=False, help_text=_("The portal's own transcript.")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    replaced_at = models.DateTimeField(_("replaced"), null=True, blank=True)
    # SHA-256 of the stored file, computed at upload: the same document under two managers.
    content_hash = models.CharField(
        _("content hash"), max_length=64, blank=True, db_index=True, default="", db_default=""
    )

    history = HistoricalRecords(verbose_name=_("proof change"))

    class Meta:
        verbose_name = _("filing proof")
        verbose_name_plural = _("filing proofs")
        ordering = ["kind", "-uploaded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["filing", "kind"],
                condition=Q(replaced_at__isnull=True),
                name="one_current_proof_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.original_name}"

    @property
    def is_image(self) -> bool:
        return self.mime.startswith("image/")


class ReviewEvent(models.Model):
    """One transition of a filing: who, when, from which state to which, and why."""

    class Action(models.TextChoices):
        START = "start", _("Started")
        SUBMIT = "submit", _("Submitted")
        WITHDRAW = "withdraw", _("Withdrawn by the manager")
        FIRM_APPROVE = "firm_approve", _("Approved by the firm and forwarded")
        FIRM_RETURN = "firm_return", _("Returned by the firm")
        BUREAU_APPROVE = "bureau_approve", _("Approved by the bureau")
        BUREAU_RETURN = "bureau_return", _("Returned by the bureau")
        BUREAU_REVOKE = "bureau_revoke", _("Approval revoked by the bureau")

    filing = models.ForeignKey(
        AnnualFiling, verbose_name=_("filing"), on_delete=models.PROTECT, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    from_status = models.CharField(
        _("previous status"), max_length=16, choices=AnnualFiling.Status.choices, blank=True
    )
    to_status = models.CharField(
        _("new status"), max_length=16, choices=AnnualFiling.Status.choices
    )
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("review event")
        verbose_name_plural = _("review events")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["filing", "created_at"], name="event_filing_time_idx")]

    def __str__(self) -> str:
        return f"{self.filing_id} {self.action}"


# --- the year's registry status and the credit record (信用档案) -------------------------------


class StatusReason(models.TextChoices):
    """Why a manager is abnormal for a year."""

    NOT_FILED = "not_filed", _("No filing was submitted")
    NOT_APPROVED = "not_approved", _("The filing was not approved by the deadline")
    HOURS_SHORT = "hours_short", _("Study hours short of the rule")
    BAD_CONDUCT = "bad_conduct", _("A bad conduct record in force")
    REVOKED = "revoked", _("The approval of the filing was revoked")


def reasons_display(reasons: list[str]) -> list[str]:
    labels = dict(StatusReason.choices)
    return [str(labels.get(reason, reason)) for reason in reasons or []]


def reasons_text(reasons: list[str]) -> str:
    """The reasons as one line in the reader's language ("；" between them in Chinese)."""
    return gettext("; ").join(reasons_display(reasons))


class StatusChoice(models.TextChoices):
    NORMAL = "normal", _("Normal")
    ABNORMAL = "abnormal", _("Abnormal")


class YearStatus(models.Model):
    """A year's status with its reasons: what a registry status and a credit-record entry
    share."""

    year = models.PositiveSmallIntegerField(_("year"))
    status = models.CharField(_("registry status"), max_length=16, choices=StatusChoice.choices)
    reasons = ArrayField(
        models.CharField(max_length=16, choices=StatusReason.choices),
        verbose_name=_("reasons"),
        default=list,
        blank=True,
    )

    class Meta:
        abstract = True

    def get_reasons_display(self) -> list[str]:
        return reasons_display(self.reasons)

    @property
    def reasons_text(self) -> str:
        return reasons_text(self.reasons)


class RegistryStatus(YearStatus):
    """A manager's registry status (执业状态) for a year: decided when the window closes,
    changed afterwards only by a late approval or a conduct record, each change written to the
    credit record (`CreditEntry`)."""

    Status = StatusChoice

    manager = models.ForeignKey(
        ManagerProfile,
        verbose_name=_("manager"),
        on_delete=models.PROTECT,
        related_name="registry_statuses",
    )
    # The jurisdiction whose window decided it (the manager's at the close): the bureau's scope.
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("jurisdiction"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_on = models.DateField(_("window closed on"))
    decided_at = models.DateTimeField(_("decided"))
    updated_at = models.DateTimeField(_("last changed"))
    # Set by an upheld objection (`services.registry_status_correct`): the reasons a bureau
    # official removed stay removed when the status is decided again.
    corrected_at = models.DateTimeField(_("corrected"), null=True, blank=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("corrected by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # db_default: the closing's INSERT … SELECT (and any bulk writer) leaves it out.
    removed_reasons = ArrayField(
        models.CharField(max_length=16, choices=StatusReason.choices),
        verbose_name=_("reasons removed on objection"),
        default=list,
        db_default=Value([], output_field=ArrayField(models.CharField(max_length=16))),
        blank=True,
    )

    class Meta:
        verbose_name = _("registry status")
        verbose_name_plural = _("registry statuses")
        ordering = ["-year", "manager__real_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["manager", "year"], name="one_registry_status_per_manager_and_year"
            ),
            models.CheckConstraint(
                condition=Q(status="normal", reasons=[]) | (Q(status="abnormal") & ~Q(reasons=[])),
                name="abnormal_status_has_reasons",
            ),
        ]
        indexes = [
            models.Index(fields=["year", "status"], name="registry_status_year_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.manager} {self.year} {self.get_status_display()}"

    @property
    def is_abnormal(self) -> bool:
        return self.status == self.Status.ABNORMAL


class CreditEntry(YearStatus):
    """One line of a manager's credit record (信用档案): a registry status as decided or
    changed, when, why and by whom (no one: the closing of the window). Never edited."""

    class Cause(models.TextChoices):
        WINDOW_CLOSED = "window_closed", _("The filing window closed")
        LATE_APPROVAL = "late_approval", _("Filing approved after the close")
        CONDUCT = "conduct", _("Conduct record entered or changed")
        REVOKED = "revoked", _("Filing approval revoked")
        CORRECTED = "corrected", _("Corrected after an objection")
        AUDIT = "audit_rejected", _("Study record rejected by an audit")

    manager = models.ForeignKey(
        ManagerProfile,
        verbose_name=_("manager"),
        on_delete=models.PROTECT,
        related_name="credit_entries",
    )
    previous_status = models.CharField(
        _("previous status"), max_length=16, choices=StatusChoice.choices, blank=True
    )
    cause = models.CharField(_("cause"), max_length=16, choices=Cause.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("credit record entry")
        verbose_name_plural = _("credit record entries")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["manager", "-created_at"], name="credit_manager_idx")]

    def __str__(self) -> str:
        return f"{self.manager} {self.year} {self.get_status_display()}"


class ConductRecord(models.Model):
    """A good or bad conduct record (良好 / 不良执业记录) entered by bureau staff, with its
    evidence and the period in which it is in force. Public ones are shown to anyone."""

    class Kind(models.TextChoices):
        GOOD = "good", _("Good conduct")
        BAD = "bad", _("Bad conduct")

    class Severity(models.TextChoices):
        MINOR = "minor", _("Minor")
        GENERAL = "general", pgettext_lazy("severity", "General")
        SERIOUS = "serious", _("Serious")

    manager = models.ForeignKey(
        ManagerProfile,
        verbose_name=_("manager"),
        on_delete=models.PROTECT,
        related_name="conduct_records",
    )
    kind = models.CharField(_("type"), max_length=8, choices=Kind.choices)
    severity = models.CharField(
        _("severity"),
        max_length=8,
        choices=Severity.choices,
        default=Severity.GENERAL,
        db_default=Severity.GENERAL,
        help_text=_("Of a bad record: how many points it takes off the credit score."),
    )
    occurred_on = models.DateField(_("date"))
    summary = models.CharField(_("summary"), max_length=200)
    details = models.TextField(_("details"), blank=True)
    evidence = models.FileField(
        _("evidence"), upload_to=private_upload_to("conduct"), max_length=200
    )
    evidence_name = models.CharField(_("evidence file name"), max_length=255, editable=False)
    effective_from = models.DateField(_("in force from"))
    effective_until = models.DateField(
        _("in force until"), null=True, blank=True, help_text=_("Empty: with no end.")
    )
    public = models.BooleanField(
        _("public"), default=False, help_text=_("Disclosed to the public on the certificate check.")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Voided by an upheld objection (`services.conduct_record_void`): kept, in force never.
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True, editable=False)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("voided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    void_reason = models.TextField(
        _("reason for voiding"), blank=True, editable=False, default="", db_default=""
    )
    # Ended early by an approved credit repair (`services.conduct_record_end_early`).
    repaired_on = models.DateField(_("repaired on"), null=True, blank=True, editable=False)

    history = HistoricalRecords(
        verbose_name=_("conduct record change"), excluded_fields=["updated_at"]
    )

    class Meta:
        verbose_name = _("conduct record")
        verbose_name_plural = _("conduct records")
        ordering = ["-occurred_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_until__isnull=True)
                | Q(effective_until__gte=models.F("effective_from")),
                name="conduct_record_period_ends_after_start",
                violation_error_message=_("The record must end on or after the day it starts."),
            )
        ]
        indexes = [
            models.Index(fields=["manager", "kind"], name="conduct_manager_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.manager} · {self.get_kind_display()} · {self.summary}"


# --- triage: correction marks, bulk approval jobs --------------------------------------------


class ProofMark(models.Model):
    """A proof a return asks the manager to correct, with the reviewer's note. Open until the
    filing is submitted again, then kept as a record (`resolved_at`, `replaced`)."""

    filing = models.ForeignKey(
        AnnualFiling, verbose_name=_("filing"), on_delete=models.CASCADE, related_name="marks"
    )
    event = models.ForeignKey(
        ReviewEvent, verbose_name=_("return"), on_delete=models.CASCADE, related_name="marks"
    )
    kind = models.CharField(_("proof"), max_length=16, choices=FilingProof.Kind.choices)
    # The proof that was current at the return (None: it was missing).
    proof = models.ForeignKey(
        FilingProof,
        verbose_name=_("marked file"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("what to correct"))
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("closed at resubmission"), null=True, blank=True)
    replaced = models.BooleanField(_("replaced before resubmission"), default=False)

    class Meta:
        verbose_name = _("correction mark")
        verbose_name_plural = _("correction marks")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["event", "kind"], name="one_mark_per_return_and_proof")
        ]
        indexes = [
            models.Index(
                fields=["filing"], name="proofmark_open_idx", condition=Q(resolved_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.filing_id} {self.kind}"


class BulkApprovalJob(models.Model):
    """ "Approve every filing without a risk flag" of the list an official chose, run in the
    background: one item per filing, with its outcome; the counts are the progress bar."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default="queued")
    # What the official chose (the list's filters) and a digest of the filings it held: the
    # same list asked twice (a double click) while the first job runs is that job.
    query = models.CharField(_("list"), max_length=500, blank=True)
    key = models.CharField(max_length=64, editable=False)
    total = models.PositiveIntegerField(_("filings"), default=0)

    class Meta:
        verbose_name = _("bulk approval")
        verbose_name_plural = _("bulk approvals")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "key"],
                condition=~Q(state="done"),
                name="one_open_bulk_approval_per_list",
            )
        ]

    def __str__(self) -> str:
        return f"{self.created_by} {self.created_at:%Y-%m-%d %H:%M}"


class BulkApprovalItem(models.Model):
    """One filing of a bulk approval: what it was when the job started, and what happened."""

    class Outcome(models.TextChoices):
        PENDING = "", _("Waiting")
        APPROVED = "approved", _("Approved")
        SKIPPED = "skipped", _("Skipped")
        CHANGED = "changed", _("Changed meanwhile, not approved")

    job = models.ForeignKey(
        BulkApprovalJob, verbose_name=_("job"), on_delete=models.CASCADE, related_name="items"
    )
    filing = models.ForeignKey(
        AnnualFiling, verbose_name=_("filing"), on_delete=models.CASCADE, related_name="+"
    )
    seen_updated_at = models.DateTimeField()
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, default="", blank=True
    )
    note = models.TextField(_("why"), blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("bulk approval item")
        verbose_name_plural = _("bulk approval items")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["job", "filing"], name="one_item_per_job_and_filing")
        ]
        indexes = [models.Index(fields=["job", "outcome"], name="bulkitem_job_outcome_idx")]

    def __str__(self) -> str:
        return f"{self.job_id} {self.filing_id} {self.outcome}"
