"""Continuing education: training providers (more in the training issue)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Jurisdiction
from accounts.validators import validate_credit_code


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
