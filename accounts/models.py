"""People and organisations: users, jurisdictions, firms, manager profiles and employment."""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from encrypted_fields.fields import EncryptedCharField
from simple_history.models import HistoricalRecords

from .validators import mask_id_number, validate_credit_code, validate_mainland_mobile


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who logs in with an e-mail address. What they may do comes from membership rows
    (FirmMembership, BureauMembership, training.ProviderStaff); a user with none is a manager."""

    username = None
    email = models.EmailField(_("e-mail address"), unique=True)
    language = models.CharField(
        _("preferred language"),
        max_length=10,
        default="zh-hans",
        help_text=_("Language of the e-mails and notices this person receives."),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email


class Jurisdiction(models.Model):
    """An administrative division (行政区划): province → prefecture → county.

    `path` is the chain of codes from the province down ("430000/433100/433101/"), so that a
    jurisdiction and everything under it is one indexed `path LIKE 'prefix%'` query at any depth.
    """

    class Level(models.TextChoices):
        PROVINCE = "province", _("Province")
        PREFECTURE = "prefecture", _("Prefecture")
        COUNTY = "county", _("County")

    code = models.CharField(_("division code"), max_length=6, unique=True)
    name = models.CharField(_("name"), max_length=64)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    path = models.CharField(_("path"), max_length=128, unique=True, editable=False)

    class Meta:
        verbose_name = _("jurisdiction")
        verbose_name_plural = _("jurisdictions")
        ordering = ["path"]
        indexes = [
            models.Index(
                fields=["path"], name="jurisdiction_path_like", opclasses=["varchar_pattern_ops"]
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def full_name(self) -> str:
        return self.name


class Firm(models.Model):
    """A property-service firm (物业服务企业)."""

    name = models.CharField(_("firm name"), max_length=128)
    credit_code = models.CharField(
        _("unified social credit code"),
        max_length=18,
        unique=True,
        validators=[validate_credit_code],
        help_text=_("18 characters, as on the business licence."),
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="firms"
    )
    contact_person = models.CharField(_("contact person"), max_length=64, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("property-service firm")
        verbose_name_plural = _("property-service firms")
        ordering = ["name"]
        indexes = [
            # Searches of "name contains …" (icontains: UPPER(name) LIKE '%…%') in the admin.
            GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="firm_name_trgm"),
        ]

    def __str__(self) -> str:
        return self.name


class FirmMembership(models.Model):
    """A firm's staff member who reviews its managers' filings (企业管理员)."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Firm administrator")
        REVIEWER = "reviewer", _("Reviewer")

    user = models.OneToOneField(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="firm_membership"
    )
    firm = models.ForeignKey(
        Firm, verbose_name=_("firm"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.REVIEWER)
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        verbose_name = _("firm reviewer")
        verbose_name_plural = _("firm reviewers")

    def __str__(self) -> str:
        return f"{self.user} @ {self.firm}"


class FirmInvitation(models.Model):
    """An invitation from a firm administrator to become one of the firm's reviewers."""

    firm = models.ForeignKey(Firm, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(
        _("role"),
        max_length=16,
        choices=FirmMembership.Role.choices,
        default=FirmMembership.Role.REVIEWER,
    )
    token = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("invited"), auto_now_add=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("reviewer invitation")
        verbose_name_plural = _("reviewer invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["firm", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_firm_and_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.firm}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


class BureauMembership(models.Model):
    """A housing-bureau official (住建局工作人员), acting in one jurisdiction and everything under
    it. Created by an administrator, never by sign-up."""

    user = models.OneToOneField(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="bureau_membership"
    )
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("jurisdiction"), on_delete=models.PROTECT, related_name="staff"
    )
    title = models.CharField(_("position"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("since"), auto_now_add=True)

    class Meta:
        verbose_name = _("bureau staff member")
        verbose_name_plural = _("bureau staff")

    def __str__(self) -> str:
        return f"{self.user} @ {self.jurisdiction}"


class Education(models.TextChoices):
    JUNIOR_HIGH = "junior_high", _("Junior high school or below")
    SENIOR_HIGH = "senior_high", _("Senior high school / technical secondary school")
    JUNIOR_COLLEGE = "junior_college", _("Junior college (dazhuan)")
    BACHELOR = "bachelor", _("Bachelor's degree")
    MASTER = "master", _("Master's degree")
    DOCTORATE = "doctorate", _("Doctorate")


class ProfessionalTitle(models.TextChoices):
    NONE = "none", _("None")
    JUNIOR = "junior", _("Junior title")
    INTERMEDIATE = "intermediate", _("Intermediate title")
    ASSOCIATE_SENIOR = "associate_senior", _("Associate senior title")
    SENIOR = "senior", _("Senior title")


class SkillLevel(models.TextChoices):
    NONE = "none", _("None")
    LEVEL_5 = "level5", _("Property manager, level 5 (junior)")
    LEVEL_4 = "level4", _("Property manager, level 4 (intermediate)")
    LEVEL_3 = "level3", _("Property manager, level 3 (senior)")
    LEVEL_2 = "level2", _("Property manager, level 2 (technician)")
    LEVEL_1 = "level1", _("Property manager, level 1 (senior technician)")
    CERTIFIED = "certified", _("Certified property management professional")


class RegistrationStatus(models.TextChoices):
    """Where a manager's registration (执业登记) stands. The number is issued only on the way
    to `REGISTERED`: when the employing firm has confirmed the employment and, where the bureau
    requires it (`RegistrationRule`), a bureau official has approved the registration."""

    AWAITING_FIRM = "awaiting_firm", _("Awaiting the firm's confirmation of employment")
    AWAITING_BUREAU = "awaiting_bureau", _("Awaiting the bureau's review")
    REFUSED = "refused", _("Refused by the bureau")
    REGISTERED = "registered", pgettext_lazy("registration", "Registered")
    CANCELLED = "cancelled", pgettext_lazy("registration", "Cancelled")


class ManagerProfile(models.Model):
    """A property manager's practice profile (物业管理员).

    The ID number is personal data: stored encrypted (`id_number`) with a keyed hash
    (`id_number_hash`, HMAC-SHA256) for uniqueness and exact lookup. Show `masked_id_number`.
    """

    user = models.OneToOneField(
        User, verbose_name=_("user"), on_delete=models.PROTECT, related_name="manager_profile"
    )
    real_name = models.CharField(_("real name"), max_length=64)
    id_number = EncryptedCharField(_("ID number"), max_length=18)
    id_number_hash = models.CharField(max_length=64, unique=True, editable=False)
    phone = models.CharField(
        _("mobile phone"), max_length=11, validators=[validate_mainland_mobile]
    )
    # Set when the manager entered the code sent to `phone`; cleared when the phone changes.
    phone_verified_at = models.DateTimeField(
        _("phone verified"), null=True, blank=True, editable=False
    )
    sms_opt_out = models.BooleanField(_("no text messages"), default=False)
    education = models.CharField(_("highest education"), max_length=32, choices=Education.choices)
    title = models.CharField(
        _("professional title"), max_length=32, choices=ProfessionalTitle.choices, default="none"
    )
    skill_level = models.CharField(
        _("skill level / practice certificate"),
        max_length=32,
        choices=SkillLevel.choices,
        default="none",
    )
    certificate_number = models.CharField(_("certificate number"), max_length=64, blank=True)
    registration_number = models.CharField(
        _("registration number"), max_length=16, unique=True, null=True, blank=True, editable=False
    )
    # The jurisdiction of the current (or, after leaving, the last) employing firm: bureau staff
    # of that jurisdiction supervise the manager. Kept by the employment services.
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("jurisdiction"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="managers",
    )
    # When the manager finished the profile (he may use the portal from then on); the number
    # comes later, with `registered_at` (see `RegistrationStatus`).
    completed_at = models.DateTimeField(
        _("profile completed"), null=True, blank=True, editable=False
    )
    registration_status = models.CharField(
        _("registration"),
        max_length=16,
        choices=RegistrationStatus.choices,
        default=RegistrationStatus.AWAITING_FIRM,
        editable=False,
    )
    registered_at = models.DateTimeField(_("registered"), null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(
        _("registration cancelled"), null=True, blank=True, editable=False
    )
    # The reason of the last refusal or cancellation (the manager reads it; the events keep all).
    registration_reason = models.TextField(
        _("reason"), blank=True, editable=False, default="", db_default=""
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    # The audit trail of the profile. The ID number (and its keyed hash) stay out of it: the
    # history tables are read by more screens than the profile itself.
    history = HistoricalRecords(
        verbose_name=_("profile change"),
        excluded_fields=["id_number", "id_number_hash", "updated_at"],
    )

    class Meta:
        verbose_name = _("property manager")
        verbose_name_plural = _("property managers")
        ordering = ["real_name", "pk"]
        indexes = [
            models.Index(fields=["real_name"], name="manager_real_name_idx"),
            models.Index(
                fields=["registration_status"],
                name="manager_registration_todo_idx",
                condition=Q(registration_status="awaiting_bureau"),
            ),
            # Searches of "name contains …" (icontains: UPPER(real_name) LIKE '%…%'): the
            # bureau's lists of a whole province.
            GinIndex(OpClass(Upper("real_name"), name="gin_trgm_ops"), name="manager_name_trgm"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(registration_status__in=["registered", "cancelled"])
                | Q(registration_number__isnull=False, registered_at__isnull=False),
                name="registered_manager_has_number",
            ),
        ]

    def __str__(self) -> str:
        return self.real_name

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number or "")

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None

    @property
    def is_registered(self) -> bool:
        """Registered and not cancelled: the number is in force."""
        return self.registration_status == RegistrationStatus.REGISTERED


class PendingRegistration(ManagerProfile):
    """The bureau's queue of registrations awaiting its review (an admin list of its own)."""

    class Meta:
        proxy = True
        verbose_name = _("registration awaiting review")
        verbose_name_plural = _("registrations awaiting review")


class RegistrationRule(models.Model):
    """Whether new registrations in a jurisdiction need a bureau official's approval after the
    firm has confirmed the employment. A county without its own rule uses its prefecture's,
    then its province's; none at all: the firm's confirmation is enough."""

    jurisdiction = models.OneToOneField(
        Jurisdiction,
        verbose_name=_("jurisdiction"),
        on_delete=models.PROTECT,
        related_name="registration_rule",
    )
    bureau_review = models.BooleanField(
        _("bureau approval required"),
        default=True,
        help_text=_(
            "On: a new manager's registration number is issued only after a bureau official "
            "approves the registration. Off: the firm's confirmation of the employment is enough."
        ),
    )
    updated_by = models.ForeignKey(
        User, verbose_name=_("changed by"), on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("registration rule")
        verbose_name_plural = _("registration rules")
        ordering = ["jurisdiction__path"]

    def __str__(self) -> str:
        return str(self.jurisdiction)


class RegistrationEvent(models.Model):
    """One step of a manager's registration: who, when, what, why. Never edited."""

    class Action(models.TextChoices):
        TO_BUREAU = "to_bureau", _("Sent to the bureau for review")
        ISSUED = "issued", _("Registration number issued")
        REFUSED = "refused", _("Registration refused")
        RESUBMITTED = "resubmitted", _("Sent to the bureau again")
        CANCELLED = "cancelled", _("Registration cancelled")

    manager = models.ForeignKey(
        ManagerProfile,
        verbose_name=_("manager"),
        on_delete=models.PROTECT,
        related_name="registration_events",
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    actor = models.ForeignKey(
        User, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("registration event")
        verbose_name_plural = _("registration events")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["manager", "created_at"], name="regevent_manager_idx")]

    def __str__(self) -> str:
        return f"{self.manager_id} {self.action}"


class WorkHistory(models.Model):
    """A line of the manager's own work history (工作经历), as declared."""

    profile = models.ForeignKey(
        ManagerProfile, on_delete=models.CASCADE, related_name="work_history"
    )
    employer = models.CharField(_("employer"), max_length=128)
    position = models.CharField(_("position"), max_length=64)
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"), null=True, blank=True, help_text=_("Empty if current."))

    class Meta:
        verbose_name = _("work history entry")
        verbose_name_plural = _("work history")
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="work_history_end_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.employer} · {self.position}"


class Employment(models.Model):
    """A manager's employment by a firm (聘用关系). Proposed by one side, confirmed by the other."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested by the manager")
        OFFERED = "offered", _("Proposed by the firm")
        ACTIVE = "active", pgettext_lazy("employment", "Current")
        ENDED = "ended", _("Ended")
        DECLINED = "declined", _("Declined")
        CANCELLED = "cancelled", _("Withdrawn")

    PENDING = (Status.REQUESTED, Status.OFFERED)

    manager = models.ForeignKey(
        ManagerProfile,
        verbose_name=_("manager"),
        on_delete=models.PROTECT,
        related_name="employments",
    )
    firm = models.ForeignKey(
        Firm, verbose_name=_("firm"), on_delete=models.PROTECT, related_name="employments"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    position = models.CharField(_("position"), max_length=64, blank=True)
    start_date = models.DateField(_("start date"), null=True, blank=True)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    requested_by = models.ForeignKey(
        User, verbose_name=_("proposed by"), on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        User,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ended_by = models.ForeignKey(
        User,
        verbose_name=_("ended by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("employment")
        verbose_name_plural = _("employments")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["manager"],
                condition=Q(status="active"),
                name="one_current_firm_per_manager",
                violation_error_message=_("A manager can have only one current firm."),
            ),
            models.UniqueConstraint(
                fields=["manager", "firm"],
                condition=Q(status__in=["requested", "offered"]),
                name="one_pending_request_per_manager_and_firm",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="employment_end_after_start",
            ),
        ]
        indexes = [models.Index(fields=["firm", "status"], name="employment_firm_status_idx")]

    def __str__(self) -> str:
        return f"{self.manager} — {self.firm}"


class IdentityLookup(models.Model):
    """One look-up of a person by ID number (and name): who asked, when, what they typed and
    whether it matched. Written by `accounts.identity`; bureau staff read it in the admin, to see
    who probes identities in their area."""

    class Kind(models.TextChoices):
        FIRM_OFFER = "firm_offer", _("Firm: employment offer")
        FIRM_SEARCH = "firm_search", _("Firm: search by ID number")
        ADMIN_SEARCH = "admin_search", _("Bureau: search by ID number")
        PROFILE = "profile", _("Manager: profile sign-up")
        PROVIDER_IMPORT = "provider_import", _("Training provider: completions report")

    actor = models.ForeignKey(
        User, verbose_name=_("looked up by"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind of look-up"), max_length=32, choices=Kind.choices)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    id_number_masked = models.CharField(_("ID number (masked)"), max_length=18)
    id_number_hash = models.CharField(max_length=64, editable=False, db_index=True)
    name_typed = models.CharField(_("name typed"), max_length=64, blank=True)
    matched = models.BooleanField(_("matched"))
    # Who sees the row: the bureau of the one who looked (the firm's, the provider's, the
    # official's) and the bureau of the manager who holds the ID number, if anyone does.
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("jurisdiction of the one who looked"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    manager = models.ForeignKey(
        ManagerProfile,
        verbose_name=_("manager holding this ID number"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("identity look-up")
        verbose_name_plural = _("identity look-ups")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.id_number_masked}"


class StaffInvitation(models.Model):
    """A one-time link that makes a new bureau official: the person sets a password, then the
    authenticator. Issued by an administrator, or by prefecture/province bureau staff for their
    own jurisdiction and below.

    Only the SHA-256 of the link's token is stored; the token itself exists in the e-mail alone.
    Sending a new link replaces the token (the earlier link stops working)."""

    VALID_FOR_HOURS = 72

    email = models.EmailField(_("e-mail address"))
    jurisdiction = models.ForeignKey(
        Jurisdiction,
        verbose_name=_("jurisdiction"),
        on_delete=models.PROTECT,
        related_name="staff_invitations",
    )
    # NULL until a link is sent (and between a renewal and its e-mail): unique where present.
    token_hash = models.CharField(  # noqa: DJ001
        max_length=64, unique=True, null=True, editable=False
    )
    invited_by = models.ForeignKey(
        User, verbose_name=_("invited by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("invited"), auto_now_add=True)
    expires_at = models.DateTimeField(_("link valid until"))
    used_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    user = models.ForeignKey(
        User,
        verbose_name=_("account created"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("staff invitation")
        verbose_name_plural = _("staff invitations")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["email"],
                condition=Q(used_at__isnull=True),
                name="one_open_staff_invitation_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.jurisdiction}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class PhoneCode(models.Model):
    """The open verification code of a manager's phone: one per profile, replaced by each new
    code. Only its keyed hash is stored; it is valid for `PHONE_CODE_VALID` and `PHONE_CODE_TRIES`
    wrong entries (see `accounts.services.phone_code_send` / `phone_code_check`)."""

    profile = models.OneToOneField(
        ManagerProfile, on_delete=models.CASCADE, related_name="phone_code"
    )
    # The number the code went to: a code proves only that number.
    phone = models.CharField(max_length=11)
    code_hash = models.CharField(max_length=64)
    sent_at = models.DateTimeField()
    tries = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("phone verification code")
        verbose_name_plural = _("phone verification codes")

    def __str__(self) -> str:
        return f"{self.profile_id} {self.sent_at:%Y-%m-%d %H:%M}"


class PageChange(models.Model):
    """A change to the data of some user's pages, written by PostgreSQL's triggers (see
    accounts/pagechanges.py): never by Django, never updated, folded by `compact`."""

    #: Whose pages changed; 0: everyone's (a rule, a window, a firm's name).
    user_id = models.BigIntegerField()
    #: How many changes the row stands for (1; more once rows are folded together).
    weight = models.BigIntegerField(db_default=1)

    class Meta:
        indexes = [
            # The sum of a user's weights, read with his roles on every request: from the index alone.
            models.Index(fields=["user_id"], include=["weight"], name="pagechange_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}+{self.weight}"
