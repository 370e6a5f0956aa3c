"""Continuing education: training providers (more in the training issue)."""

from django.conf import settings
from django.db import models
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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
        VERIFIED = "verified", _("Verified")
        REJECTED = "rejected", _("Rejected")

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
    def counts(self) -> bool:
        return self.status == self.Status.VERIFIED and self.assessment == self.Assessment.PASSED


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
