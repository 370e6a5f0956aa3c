"""The dashboard's figures, computed once a day (`dashboard.dashboard_refresh`) so that the page
of a province of 100,000 managers sums a few thousand stored rows instead of counting a million.

Both tables are written only by the refresh (delete the year, insert it again, set-based SQL)
and read only by the dashboard; nobody edits them."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Firm, Jurisdiction


class AreaFigures(models.Model):
    """The figures of one year for one jurisdiction and one firm (null: managers without a
    current firm). Each figure is grouped by the same jurisdiction and firm as the list it links
    to: filings by the filing's (the county and firm that review it), registry statuses by the
    status's jurisdiction and the manager's current firm, everything about managers by the
    manager's jurisdiction and current firm."""

    year = models.PositiveSmallIntegerField(_("year"))
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("jurisdiction"), on_delete=models.CASCADE, related_name="+"
    )
    firm = models.ForeignKey(
        Firm, verbose_name=_("firm"), null=True, on_delete=models.CASCADE, related_name="+"
    )
    managers = models.PositiveIntegerField(default=0)
    certified = models.PositiveIntegerField(default=0)
    compliant = models.PositiveIntegerField(default=0)
    trained = models.PositiveIntegerField(default=0)
    participations = models.PositiveIntegerField(default=0)
    draft = models.PositiveIntegerField(default=0)
    awaiting_firm = models.PositiveIntegerField(default=0)
    awaiting_bureau = models.PositiveIntegerField(default=0)
    returned = models.PositiveIntegerField(default=0)
    approved = models.PositiveIntegerField(default=0)
    decided = models.PositiveIntegerField(default=0)
    abnormal = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("dashboard figures")
        verbose_name_plural = _("dashboard figures")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "jurisdiction", "firm"],
                name="one_area_figures_row",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.jurisdiction_id} {self.firm_id}"


class FilingDay(models.Model):
    """How many of a year's filings of one jurisdiction (the filing's) were in each state at
    the end of one day, rebuilt from the review events; `submitted` counts those submitted at
    least once by then."""

    year = models.PositiveSmallIntegerField(_("year"))
    day = models.DateField(_("date"))
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name=_("jurisdiction"), on_delete=models.CASCADE, related_name="+"
    )
    draft = models.IntegerField(default=0)
    awaiting_firm = models.IntegerField(default=0)
    awaiting_bureau = models.IntegerField(default=0)
    returned = models.IntegerField(default=0)
    approved = models.IntegerField(default=0)
    submitted = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("filings per day")
        verbose_name_plural = _("filings per day")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "jurisdiction", "day"], name="one_filing_day_row"
            )
        ]
        indexes = [models.Index(fields=["year", "day"], name="filing_day_year_day_idx")]

    def __str__(self) -> str:
        return f"{self.year} {self.jurisdiction_id} {self.day}"


class DashboardRefresh(models.Model):
    """When the figures of a year were last computed (shown on the page)."""

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    refreshed_at = models.DateTimeField(_("computed"))
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("dashboard refresh")
        verbose_name_plural = _("dashboard refreshes")

    def __str__(self) -> str:
        return f"{self.year} {self.refreshed_at}"
