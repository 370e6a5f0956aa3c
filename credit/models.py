"""Credit files with consequences (信用档案): the score and grade of each manager per year with
the lines that explain every point, the key-supervision list (重点监管名单), objections (异议)
and credit repair (信用修复), and the per-jurisdiction policy that sets every figure.

The computation lives in `scoring.py` (set-based, all managers at once or one), the listing
rules in `listing.py`, the workflows in `services.py`; the models hold fields, choices and
constraints only."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Jurisdiction, ManagerProfile
from core.uploads import private_upload_to
from registry.models import ConductRecord, RegistryStatus


class Grade(models.TextChoices):
    AAA = "AAA", "AAA"
    AA = "AA", "AA"
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"


class CreditPolicy(models.Model):
    """Every figure of the credit file, set by a bureau for its jurisdiction. A jurisdiction
    without its own policy uses its prefecture's, then its province's, then the defaults below
    (the field defaults: what the published municipal rules say)."""

    jurisdiction = models.OneToOneField(
        Jurisdiction,
        verbose_name=_("jurisdiction"),
        on_delete=models.PROTECT,
        related_name="credit_policy",
    )
    # The base part (80 by default).
    base_profile = models.PositiveSmallIntegerField(
        _("points: profile complete and confirmed by the firm"), default=20
    )
    base_filing = models.PositiveSmallIntegerField(_("points: filing approved on time"), default=30)
    base_hours = models.PositiveSmallIntegerField(_("points: study hours met"), default=30)
    # Good and bad records.
    good_points = models.PositiveSmallIntegerField(_("points per good record"), default=10)
    good_max = models.PositiveSmallIntegerField(_("most points from good records"), default=40)
    bad_minor = models.PositiveSmallIntegerField(_("points off: minor bad record"), default=5)
    bad_general = models.PositiveSmallIntegerField(_("points off: general bad record"), default=10)
    bad_serious = models.PositiveSmallIntegerField(_("points off: serious bad record"), default=20)
    # Automatic deductions.
    deduct_hours_short = models.PositiveSmallIntegerField(
        _("points off: study hours short"), default=10
    )
    deduct_filing = models.PositiveSmallIntegerField(
        _("points off: filing late or missing"), default=5
    )
    deduct_assessment = models.PositiveSmallIntegerField(
        _("points off: failed course assessment"), default=5
    )
    record_days = models.PositiveSmallIntegerField(
        _("days a record counts"),
        default=365,
        help_text=_("For a record entered without an end, and for a failed assessment."),
    )
    # Grades: the lowest score of each.
    grade_aaa = models.PositiveSmallIntegerField(_("lowest score for AAA"), default=85)
    grade_aa = models.PositiveSmallIntegerField(_("lowest score for AA"), default=80)
    grade_a = models.PositiveSmallIntegerField(_("lowest score for A"), default=70)
    grade_b = models.PositiveSmallIntegerField(
        _("lowest score for B"),
        default=60,
        help_text=_("Below it: C with a bad record in force, B without."),
    )
    # The key-supervision list.
    supervision_days = models.PositiveSmallIntegerField(
        _("days on the key-supervision list"), default=365
    )
    assessment_window_days = models.PositiveSmallIntegerField(
        _("days within which a second failed assessment lists the manager"), default=730
    )
    # Objections and repair.
    decision_working_days = models.PositiveSmallIntegerField(
        _("working days to decide an objection or a repair"), default=15
    )
    repair_after_days = models.PositiveSmallIntegerField(
        _("days before a minor or general bad record can be repaired"), default=90
    )
    repair_after_days_serious = models.PositiveSmallIntegerField(
        _("days before a serious bad record can be repaired"), default=365
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("credit policy")
        verbose_name_plural = _("credit policies")
        ordering = ["jurisdiction__path"]
        constraints = [
            models.CheckConstraint(
                condition=Q(grade_aaa__gte=models.F("grade_aa"))
                & Q(grade_aa__gte=models.F("grade_a"))
                & Q(grade_a__gte=models.F("grade_b")),
                name="credit_policy_grades_in_order",
                violation_error_message=_("The grades' lowest scores must go down from AAA to B."),
            )
        ]

    def __str__(self) -> str:
        return str(self.jurisdiction)


class CreditScore(models.Model):
    """A manager's score and grade for a year whose registry status is decided. Written only by
    `scoring.scores_recompute`; `as_of` is the day its records were counted on (today for the
    latest year, the day before the next year's close for the earlier ones)."""

    manager = models.ForeignKey(
        ManagerProfile,
        verbose_name=_("manager"),
        on_delete=models.PROTECT,
        related_name="credit_scores",
    )
    year = models.PositiveSmallIntegerField(_("year"))
    # The status's jurisdiction (whose policy applied): the bureau's scope.
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="+"
    )
    score = models.SmallIntegerField(pgettext_lazy("credit", "score"))
    grade = models.CharField(_("grade"), max_length=3, choices=Grade.choices)
    has_bad_record = models.BooleanField(_("bad record in force"), default=False)
    latest = models.BooleanField(_("current"), default=False)
    as_of = models.DateField(_("records counted on"))
    computed_at = models.DateTimeField(_("computed"))

    class Meta:
        verbose_name = _("credit score")
        verbose_name_plural = _("credit scores")
        ordering = ["-year", "manager_id"]
        constraints = [
            models.UniqueConstraint(fields=["manager", "year"], name="one_credit_score_per_year"),
            models.UniqueConstraint(
                fields=["manager"], condition=Q(latest=True), name="one_current_credit_score"
            ),
        ]
        indexes = [
            models.Index(fields=["year", "grade"], name="credit_score_year_grade_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.manager_id} {self.year} {self.score} {self.grade}"


class ScoreLine(models.Model):
    """One line of a score's explanation: which rule or record, how many points, in force from
    when until when. Replaced whole at each recompute."""

    class Rule(models.TextChoices):
        BASE_PROFILE = "base_profile", _("Profile complete and confirmed by the firm")
        BASE_FILING = "base_filing", _("Filing approved on time")
        BASE_HOURS = "base_hours", _("Study hours met")
        GOOD_RECORD = "good_record", _("Good conduct record")
        BAD_RECORD = "bad_record", _("Bad conduct record")
        HOURS_SHORT = "hours_short", _("Study hours short")
        FILING_LATE = "filing_late", _("Filing late or missing")
        ASSESSMENT_FAILED = "assessment_failed", _("Failed course assessment")

    #: The automatic deductions a manager may object to (and a bureau waive). A failed
    #: assessment is corrected on its study record instead.
    DEDUCTIONS = (Rule.HOURS_SHORT, Rule.FILING_LATE)

    score = models.ForeignKey(
        CreditScore, verbose_name=_("credit score"), on_delete=models.CASCADE, related_name="lines"
    )
    rule = models.CharField(_("rule"), max_length=20, choices=Rule.choices)
    points = models.SmallIntegerField(_("points"))
    conduct_record = models.ForeignKey(
        ConductRecord,
        verbose_name=_("conduct record"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    study_record = models.ForeignKey(
        "training.StudyRecord",
        verbose_name=_("study record"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    effective_from = models.DateField(_("in force from"), null=True, blank=True)
    effective_until = models.DateField(_("in force until"), null=True, blank=True)

    class Meta:
        verbose_name = _("score line")
        verbose_name_plural = _("score lines")
        ordering = ["score", "-points", "pk"]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} {self.points:+d}"


class DeductionWaiver(models.Model):
    """An automatic deduction of one year taken back by an upheld objection: the recompute
    leaves it out."""

    manager = models.ForeignKey(
        ManagerProfile, verbose_name=_("manager"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    rule = models.CharField(_("deduction"), max_length=20, choices=ScoreLine.Rule.choices)
    objection = models.OneToOneField(
        "Objection", verbose_name=_("objection"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("waived deduction")
        verbose_name_plural = _("waived deductions")
        constraints = [
            models.UniqueConstraint(
                fields=["manager", "year", "rule"], name="one_waiver_per_deduction"
            )
        ]

    def __str__(self) -> str:
        return f"{self.manager_id} {self.year} {self.rule}"


class SupervisionEntry(models.Model):
    """A period on the key-supervision list (重点监管名单), put there by a rule (automatically)
    or by bureau staff, ended by its period, by bureau staff or by an upheld objection. Never
    deleted: ended entries are the history."""

    class Cause(models.TextChoices):
        ASSESSMENT_TWICE = "assessment_twice", _("A second failed assessment within two years")
        ABNORMAL_TWICE = "abnormal_twice", _("Abnormal two years in a row")
        MANUAL = "manual", _("Listed by the bureau")

    class EndCause(models.TextChoices):
        DELISTED = "delisted", _("Taken off the list by the bureau")
        OBJECTION = "objection", _("Objection upheld")
        RULE_GONE = "rule_gone", _("The cause no longer holds")

    manager = models.ForeignKey(
        ManagerProfile,
        verbose_name=_("manager"),
        on_delete=models.PROTECT,
        related_name="supervision_entries",
    )
    cause = models.CharField(_("cause"), max_length=20, choices=Cause.choices)
    #: What triggered an automatic entry ("abnormal-2026", "assessment-<study record id>"):
    #: a rule lists a manager once per trigger, however often the recompute runs.
    trigger = models.CharField(_("trigger"), max_length=40, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    public_reason = models.CharField(
        _("public reason"),
        max_length=200,
        blank=True,
        help_text=_("Shown to the public. Empty: the cause (e.g. abnormal two years in a row)."),
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    # The manager's jurisdiction when listed: the bureau's scope.
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="+"
    )
    listed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("listed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    listed_at = models.DateTimeField(_("listed"))
    ended_at = models.DateTimeField(_("taken off"), null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("taken off by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    end_cause = models.CharField(
        _("why taken off"), max_length=16, choices=EndCause.choices, blank=True
    )
    end_reason = models.TextField(_("reason for taking off"), blank=True)

    class Meta:
        verbose_name = _("key-supervision list entry")
        verbose_name_plural = _("key-supervision list")
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["manager", "trigger"],
                condition=~Q(trigger=""),
                name="one_supervision_entry_per_trigger",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="supervision_entry_ends_after_start",
                violation_error_message=_("The period must end on or after the day it starts."),
            ),
        ]
        indexes = [
            models.Index(fields=["manager", "ends_on"], name="supervision_manager_idx"),
            models.Index(fields=["jurisdiction", "ends_on"], name="supervision_jurisdiction_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.manager} · {self.starts_on} – {self.ends_on}"

    @property
    def public_text(self) -> str:
        """What the public reads as the reason: the public reason, else the cause."""
        return self.public_reason or str(self.get_cause_display())

    def is_active_on(self, day) -> bool:
        return self.ended_at is None and self.starts_on <= day <= self.ends_on


class Decision(models.TextChoices):
    PENDING = "pending", _("Awaiting the bureau")
    UPHELD = "upheld", _("Upheld")
    REJECTED = "rejected", pgettext_lazy("objection", "Rejected")


class Objection(models.Model):
    """A manager's objection (异议) to a year's status, a bad record, an automatic deduction or
    a key-supervision entry: decided by bureau staff of his jurisdiction by `due_on`. Upheld,
    its target is corrected (status corrected, record voided, deduction waived, entry ended)."""

    class Target(models.TextChoices):
        STATUS = "status", _("Registry status")
        BAD_RECORD = "bad_record", _("Bad conduct record")
        DEDUCTION = "deduction", _("Automatic deduction")
        SUPERVISION = "supervision", _("Key-supervision list entry")

    Status = Decision

    manager = models.ForeignKey(
        ManagerProfile,
        verbose_name=_("manager"),
        on_delete=models.PROTECT,
        related_name="objections",
    )
    target = models.CharField(_("objection to"), max_length=16, choices=Target.choices)
    registry_status = models.ForeignKey(
        RegistryStatus,
        verbose_name=_("registry status"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    conduct_record = models.ForeignKey(
        ConductRecord,
        verbose_name=_("conduct record"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    supervision_entry = models.ForeignKey(
        SupervisionEntry,
        verbose_name=_("key-supervision list entry"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="objections",
    )
    # A deduction: its year and rule.
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    deduction = models.CharField(
        _("deduction"), max_length=20, choices=ScoreLine.Rule.choices, blank=True
    )
    #: What the objection is about, one key per target ("status-<id>", "deduction-2026-
    #: hours_short"…): one objection waits per target at a time.
    target_key = models.CharField(max_length=48, editable=False)
    reason = models.TextField(_("reason"))
    evidence = models.FileField(
        _("evidence"), upload_to=private_upload_to("objections"), max_length=200, blank=True
    )
    evidence_name = models.CharField(_("evidence file name"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Decision.choices, default=Decision.PENDING
    )
    # The manager's jurisdiction when he objected: whose bureau decides.
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted"))
    due_on = models.DateField(_("decision due by"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision_reason = models.TextField(_("reason for the decision"), blank=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["manager", "target_key"],
                condition=Q(status="pending"),
                name="one_pending_objection_per_target",
                violation_error_message=_("An objection to this is already awaiting the bureau."),
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False),
                name="decided_objection_has_time",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="objection_status_due_idx")]

    def __str__(self) -> str:
        return f"{self.manager} · {self.get_target_display()} · {self.submitted_at:%Y-%m-%d}"


class RepairRequest(models.Model):
    """A manager's application for credit repair (信用修复) of a bad record, once its minimum
    period has passed, with proof of rectification. Approved, the record's effect ends that
    day (the record stays in the history)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting the bureau")
        APPROVED = "approved", pgettext_lazy("repair", "Approved")
        REJECTED = "rejected", pgettext_lazy("objection", "Rejected")

    manager = models.ForeignKey(
        ManagerProfile,
        verbose_name=_("manager"),
        on_delete=models.PROTECT,
        related_name="repair_requests",
    )
    conduct_record = models.ForeignKey(
        ConductRecord,
        verbose_name=_("conduct record"),
        on_delete=models.PROTECT,
        related_name="repair_requests",
    )
    statement = models.TextField(_("rectification"))
    proof = models.FileField(
        _("proof of rectification"), upload_to=private_upload_to("repairs"), max_length=200
    )
    proof_name = models.CharField(_("proof file name"), max_length=255)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("submitted"))
    due_on = models.DateField(_("decision due by"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decision_reason = models.TextField(_("reason for the decision"), blank=True)

    class Meta:
        verbose_name = _("credit repair request")
        verbose_name_plural = _("credit repair requests")
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["conduct_record"],
                condition=Q(status="pending"),
                name="one_pending_repair_per_record",
                violation_error_message=_(
                    "A repair of this record is already awaiting the bureau."
                ),
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False),
                name="decided_repair_has_time",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="repair_status_due_idx")]

    def __str__(self) -> str:
        return f"{self.manager} · {self.conduct_record_id} · {self.submitted_at:%Y-%m-%d}"
