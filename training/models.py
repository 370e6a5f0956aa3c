"""Continuing education: training providers (more in the training issue)."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import Jurisdiction
from accounts.validators import validate_credit_code
from core.uploads import private_upload_to


class Provider(models.Model):
    """A training provider (培训机构), approved by a bureau for a period."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved")
        SUSPENDED = "suspended", _("Suspended")

    name = models.CharField(_("name"), max_length=128)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        validators=[validate_credit_code],
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("approving jurisdiction"),
        on_delete=models.PROTECT,
        related_name="providers",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    approved_from = models.DateField(_("approved from"), null=True, blank=True)
    approved_until = models.DateField(_("approved until"), null=True, blank=True)
    # Who approved or suspended the provider last, and when (`services.provider_status_set`).
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("status changed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    status_changed_at = models.DateTimeField(
        _("status changed"), null=True, blank=True, editable=False
    )
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("training provider")
        verbose_name_plural = _("training providers")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProviderStaff(models.Model):
    """A user who reports course completions for a provider."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="provider_staff",
    )
    provider = models.ForeignKey(
        Provider,
        verbose_name=_("training provider"),
        on_delete=models.CASCADE,
        related_name="staff",
    )

    class Meta:
        verbose_name = _("provider staff member")
        verbose_name_plural = _("provider staff")

    def __str__(self) -> str:
        return f"{self.user} @ {self.provider}"


class Course(models.Model):
    """A course of an approved provider (课程). Its hours are the most a record of it can count."""

    class Mode(models.TextChoices):
        ONLINE = "online", _("Online")
        OFFLINE = "offline", _("Classroom")
        BLENDED = "blended", _("Blended")

    class Category(models.TextChoices):
        LAW = "law", _("Laws, regulations and standards")
        INNOVATION = "innovation", _("Innovative practice")
        CUSTOMER = "customer", _("Customer relations and service")
        FACILITIES = "facilities", _("Facilities, equipment and energy")
        SAFETY = "safety", _("Safety and emergency management")
        FINANCE = "finance", _("Finance and cost management")

    provider = models.ForeignKey(
        Provider,
        verbose_name=_("training provider"),
        on_delete=models.PROTECT,
        related_name="courses",
    )
    code = models.CharField(_("course code"), max_length=32, unique=True)
    title = models.CharField(pgettext_lazy("course", "title"), max_length=200)
    hours = models.DecimalField(_("study hours"), max_digits=5, decimal_places=1)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices)
    category = models.CharField(_("topic"), max_length=16, choices=Category.choices)
    start_date = models.DateField(_("starts"))
    end_date = models.DateField(_("ends"))
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["-start_date", "code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(hours__gt=0), name="course_hours_positive"),
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="course_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class ProviderReport(models.Model):
    """One uploaded file of course completions from a provider (bulk report)."""

    class Status(models.TextChoices):
        IMPORTED = "imported", _("Imported")
        REJECTED = "rejected", _("Not imported")
        QUEUED = "queued", _("Waiting to be processed")
        RUNNING = "running", _("Being processed")
        FAILED = "failed", _("Could not be processed")

    IN_PROGRESS = (Status.QUEUED, Status.RUNNING)

    provider = models.ForeignKey(
        Provider,
        verbose_name=_("training provider"),
        on_delete=models.PROTECT,
        related_name="reports",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    original_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64, editable=False)
    status = models.CharField(_("result"), max_length=16, choices=Status.choices)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    created_count = models.PositiveIntegerField(_("records created"), default=0)
    duplicate_count = models.PositiveIntegerField(_("already recorded"), default=0)
    error_count = models.PositiveIntegerField(_("rows with errors"), default=0)
    error_report = models.TextField(_("error report"), blank=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    # A large file is imported by the worker: the file waits here (and is dropped once read to
    # the end: it holds ID numbers), and the page shows how far the worker got.
    updated_count = models.PositiveIntegerField(_("records updated"), default=0)
    pending_count = models.PositiveIntegerField(_("awaiting the manager's bureau"), default=0)
    skipped_count = models.PositiveIntegerField(_("left unchanged"), default=0)
    rows_done = models.PositiveIntegerField(_("rows checked"), default=0)
    content = models.BinaryField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("provider report")
        verbose_name_plural = _("provider reports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["provider", "sha256"], name="report_provider_sha_idx")]

    def __str__(self) -> str:
        return self.original_name

    @property
    def in_progress(self) -> bool:
        return self.status in self.IN_PROGRESS

    @property
    def percent_done(self) -> int:
        return min(100, self.rows_done * 100 // self.row_count) if self.row_count else 0


class StudyRecord(models.Model):
    """Hours a manager earned (学时记录). Only verified records with a passed assessment count."""

    class Source(models.TextChoices):
        SELF = "self", _("Reported by the manager")
        PROVIDER = "provider", _("Reported by the provider")

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting verification")
        # Counts at once, subject to a sampled audit (the jurisdiction's `AuditPolicy`).
        ACCEPTED = "accepted", _("Accepted, subject to audit")
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

    #: The statuses whose hours count (with a passed assessment).
    COUNTING = (Status.VERIFIED, Status.ACCEPTED)

    class Assessment(models.TextChoices):
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Failed")

    manager = models.ForeignKey(
        "accounts.ManagerProfile",
        verbose_name=_("manager"),
        on_delete=models.PROTECT,
        related_name="study_records",
    )
    course = models.ForeignKey(
        Course,
        verbose_name=_("course"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="records",
    )
    external_title = models.CharField(
        _("course title (external course)"), max_length=200, blank=True
    )
    external_provider = models.CharField(
        _("provider (external course)"), max_length=128, blank=True
    )
    completed_on = models.DateField(_("completed on"))
    hours = models.DecimalField(_("study hours"), max_digits=5, decimal_places=1)
    assessment = models.CharField(_("assessment"), max_length=8, choices=Assessment.choices)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=1, null=True, blank=True)
    certificate = models.FileField(
        _("certificate"), upload_to=private_upload_to("certificates"), blank=True, max_length=200
    )
    certificate_name = models.CharField(max_length=255, blank=True, editable=False)
    # SHA-256 of the certificate's bytes, computed at upload: the same file under two managers
    # is an audit risk rule (`audits.audit_draw`).
    certificate_sha256 = models.CharField(max_length=64, blank=True, editable=False)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    status = models.CharField(
        _("verification"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    report = models.ForeignKey(
        ProviderReport, null=True, blank=True, on_delete=models.PROTECT, related_name="records"
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("study record")
        verbose_name_plural = _("study records")
        ordering = ["-completed_on", "-pk"]
        constraints = [
            # A yearly course keeps its code: taken again in another year it counts again,
            # within one year it counts once (and a provider's report twice adds nothing).
            models.UniqueConstraint(
                "manager",
                "course",
                ExtractYear("completed_on"),
                condition=models.Q(course__isnull=False),
                name="course_counts_once_per_manager_and_year",
                violation_error_message=_(
                    "This course is already recorded for this manager in that year."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(hours__gt=0),
                name="record_hours_positive",
                violation_error_message=_("Study hours must be more than zero."),
            ),
            models.CheckConstraint(
                condition=models.Q(course__isnull=False) | ~models.Q(external_title=""),
                name="record_names_a_course",
                violation_error_message=_(
                    "Choose a course from the catalogue or enter the course title."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["manager", "completed_on"], name="record_manager_date_idx"),
            models.Index(
                fields=["certificate_sha256"],
                name="record_certificate_sha_idx",
                condition=~models.Q(certificate_sha256=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.manager} · {self.title} · {self.hours}"

    @property
    def title(self) -> str:
        return self.course.title if self.course_id else self.external_title

    @property
    def awaits_own_verification(self) -> bool:
        """The manager's own record that nobody has decided on yet: he may still change it."""
        return self.status == self.Status.PENDING and self.source == self.Source.SELF

    @property
    def own_and_undecided(self) -> bool:
        """The manager's own record that no official has decided on: awaiting verification, or
        accepted subject to audit. He may still change it (unless it is audited or filed)."""
        return self.source == self.Source.SELF and self.status in (
            self.Status.PENDING,
            self.Status.ACCEPTED,
        )

    @property
    def counts(self) -> bool:
        return self.status in self.COUNTING and self.assessment == self.Assessment.PASSED


class HoursRule(models.Model):
    """The continuing-education requirement a bureau sets for its jurisdiction and a year.

    A county without its own rule for the year uses its prefecture's, then its province's."""

    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("jurisdiction"),
        on_delete=models.PROTECT,
        related_name="hours_rules",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    annual_minimum = models.DecimalField(
        _("minimum hours in the year"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    cycle_minimum = models.DecimalField(
        _("minimum hours over the cycle"), max_digits=6, decimal_places=1, null=True, blank=True
    )
    cycle_years = models.PositiveSmallIntegerField(
        _("cycle length (years)"),
        null=True,
        blank=True,
        help_text=_("The cycle ends with the rule's year, e.g. 3 years: 2024–2026 for 2026."),
    )

    class Meta:
        verbose_name = _("hours rule")
        verbose_name_plural = _("hours rules")
        ordering = ["-year", "jurisdiction__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "year"], name="one_hours_rule_per_year"
            ),
            models.CheckConstraint(
                condition=models.Q(annual_minimum__isnull=False)
                | models.Q(cycle_minimum__isnull=False),
                name="hours_rule_sets_a_minimum",
                violation_error_message=_("Set an annual minimum, a cycle minimum, or both."),
            ),
            models.CheckConstraint(
                condition=models.Q(cycle_minimum__isnull=True)
                | models.Q(cycle_years__gte=2, cycle_years__lte=10),
                name="hours_rule_cycle_has_length",
                violation_error_message=_("A cycle minimum needs a cycle length of 2 to 10 years."),
            ),
            models.CheckConstraint(
                condition=models.Q(annual_minimum__isnull=True) | models.Q(annual_minimum__gt=0),
                name="hours_rule_annual_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(cycle_minimum__isnull=True) | models.Q(cycle_minimum__gt=0),
                name="hours_rule_cycle_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.jurisdiction} {self.year}"


class LockedStudyYear(models.Model):
    """A year whose study records a manager can no longer change: what his submitted filing
    reported. The registry locks the year when a filing is submitted and unlocks it when the
    filing comes back to him (withdrawn or returned); training only reads it."""

    manager = models.ForeignKey(
        "accounts.ManagerProfile",
        verbose_name=_("manager"),
        on_delete=models.CASCADE,
        related_name="locked_study_years",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    locked_at = models.DateTimeField(_("locked"), auto_now_add=True)

    class Meta:
        verbose_name = _("locked study year")
        verbose_name_plural = _("locked study years")
        constraints = [
            models.UniqueConstraint(
                fields=["manager", "year"], name="one_lock_per_manager_and_study_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.manager} {self.year}"


# --- sampled audits of self-reported hours ----------------------------------------------------


class AuditPolicy(models.Model):
    """How a bureau treats self-reported study records with a certificate, and how it audits
    them. A county without its own policy uses its prefecture's, then its province's; none at
    all: records wait for verification (the default)."""

    class Mode(models.TextChoices):
        VERIFY = "verify", _("Wait for verification")
        AUDIT = "audit", _("Accepted at once, subject to audit")

    jurisdiction = models.OneToOneField(
        Jurisdiction,
        verbose_name=_("jurisdiction"),
        on_delete=models.PROTECT,
        related_name="audit_policy",
    )
    mode = models.CharField(
        _("self-reported records"), max_length=8, choices=Mode.choices, default=Mode.VERIFY
    )
    sample_percent = models.DecimalField(
        _("random sample (%)"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("10"),
        help_text=_("Share of the accepted records drawn at random in each audit draw."),
    )
    max_hours_per_day = models.DecimalField(
        _("most hours on one day"),
        max_digits=4,
        decimal_places=1,
        default=Decimal("8"),
        help_text=_("A manager with more counted hours on one day is always audited."),
    )
    answer_days = models.PositiveSmallIntegerField(
        _("days to answer"),
        default=14,
        help_text=_("A sampled manager has this many days to give evidence."),
    )
    draw_every_days = models.PositiveSmallIntegerField(
        _("scheduled draw every (days)"),
        default=0,
        help_text=_("0: draws only on demand."),
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    changed_at = models.DateTimeField(_("changed"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("audit policy")
        verbose_name_plural = _("audit policies")
        ordering = ["jurisdiction__path"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sample_percent__gte=0, sample_percent__lte=100),
                name="audit_percent_0_to_100",
                violation_error_message=_("The sample is a percentage from 0 to 100."),
            ),
            models.CheckConstraint(
                condition=models.Q(max_hours_per_day__gt=0),
                name="audit_day_hours_positive",
                violation_error_message=_("The most hours on one day must be more than zero."),
            ),
            models.CheckConstraint(
                condition=models.Q(answer_days__gte=1),
                name="audit_answer_days_positive",
                violation_error_message=_("Give the manager at least one day to answer."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.jurisdiction} · {self.get_mode_display()}"


class AuditDraw(models.Model):
    """One audit draw: who drew it (nobody: the schedule), when, with which seed and rules, and
    how many records each rule hit. Its sample is its `items`."""

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("On demand")
        SCHEDULED = "scheduled", _("Scheduled")

    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("jurisdiction"),
        on_delete=models.PROTECT,
        related_name="audit_draws",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    trigger = models.CharField(_("drawn"), max_length=16, choices=Trigger.choices)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("drawn by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    drawn_at = models.DateTimeField(_("drawn at"))
    #: The day of a scheduled draw (one per jurisdiction, year and day, whatever runs twice).
    scheduled_on = models.DateField(null=True, blank=True)
    seed = models.BigIntegerField(_("seed"))
    sample_percent = models.DecimalField(_("random sample (%)"), max_digits=4, decimal_places=1)
    max_hours_per_day = models.DecimalField(
        _("most hours on one day"), max_digits=4, decimal_places=1
    )
    due_on = models.DateField(_("answer by"))
    population_count = models.PositiveIntegerField(_("records that could be drawn"), default=0)
    random_count = models.PositiveIntegerField(_("drawn at random"), default=0)
    sampled_count = models.PositiveIntegerField(_("records sampled"), default=0)
    #: How many records each risk rule hit: {"day_hours": 3, "shared_certificate": 1, …}.
    rule_hits = models.JSONField(_("risk rule hits"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit draw")
        verbose_name_plural = _("audit draws")
        ordering = ["-drawn_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "year", "scheduled_on"],
                condition=models.Q(scheduled_on__isnull=False),
                name="one_scheduled_audit_draw_per_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.jurisdiction} {self.year} #{self.pk}"


class AuditItem(models.Model):
    """A study record sampled by a draw: why it was chosen, the manager's evidence and the
    bureau's decision. A record is audited at most once."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Evidence requested")
        ANSWERED = "answered", _("Answered, awaiting the decision")
        UPHELD = "upheld", pgettext_lazy("audit", "Upheld")
        REJECTED = "rejected", pgettext_lazy("audit", "Rejected")

    class Reason(models.TextChoices):
        RANDOM = "random", _("Drawn at random")
        DAY_HOURS = "day_hours", _("More hours on one day than allowed")
        AFTER_YEAR = "after_year", _("Course dated after the year ended")
        BEFORE_APPROVAL = "before_approval", _("Completed before the provider's approval")
        SHARED_CERTIFICATE = "shared_certificate", _("Same certificate file as another manager")

    OPEN = (Status.REQUESTED, Status.ANSWERED)

    draw = models.ForeignKey(
        AuditDraw, verbose_name=_("audit draw"), on_delete=models.PROTECT, related_name="items"
    )
    record = models.OneToOneField(
        StudyRecord,
        verbose_name=_("study record"),
        on_delete=models.PROTECT,
        related_name="audit",
    )
    manager = models.ForeignKey(
        "accounts.ManagerProfile",
        verbose_name=_("manager"),
        on_delete=models.PROTECT,
        related_name="audit_items",
    )
    #: The manager's county when drawn: the statistics count it there, and its bureau decides.
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="+"
    )
    reasons = models.JSONField(_("why chosen"), default=list)
    status = models.CharField(
        _("audit"), max_length=16, choices=Status.choices, default=Status.REQUESTED
    )
    due_on = models.DateField(_("answer by"))
    answer = models.TextField(_("answer"), blank=True)
    evidence = models.FileField(
        _("evidence"), upload_to=private_upload_to("audit-evidence"), blank=True, max_length=200
    )
    evidence_name = models.CharField(max_length=255, blank=True, editable=False)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    #: Rejected by the daily job because nothing was answered by the deadline.
    expired = models.BooleanField(_("not answered in time"), default=False)

    class Meta:
        verbose_name = _("audited record")
        verbose_name_plural = _("audited records")
        ordering = ["due_on", "pk"]
        indexes = [
            models.Index(fields=["status", "due_on"], name="audit_item_status_due_idx"),
            models.Index(fields=["manager", "status"], name="audit_item_manager_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.record} · {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    def reason_labels(self) -> list[str]:
        labels = dict(self.Reason.choices)
        return [str(labels.get(code, code)) for code in self.reasons]

    @property
    def reasons_text(self) -> str:
        """Why it was chosen, as one line in the reader's language."""
        return gettext("; ").join(self.reason_labels())
