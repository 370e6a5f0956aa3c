from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("Registry filings")

    def ready(self):
        # Status notices carry reason codes; the notices' wording reads their labels from here.
        from notifications.wording import reason_labels_register

        from .models import StatusReason

        reason_labels_register(StatusReason.choices)

        # The study-hours pages (training, below) open on the year being filed: one rule.
        from training.selectors import year_in_view_rule_register

        from .selectors import current_filing_year  # also: its prepared queries (core.prepared)

        year_in_view_rule_register(
            lambda manager, today: current_filing_year(manager=manager, today=today)
        )

        # Registration steps (accounts, below the notices) are told through the registry.
        from accounts.services import registration_hook_register

        from .registration import registration_notices

        registration_hook_register(registration_notices)

        # An audit rejection (training, below) decides the year's status again, if given.
        from training.audits import audit_rejection_hook_register

        from .models import CreditEntry
        from .status import registry_status_refresh_many

        audit_rejection_hook_register(
            lambda pairs, actor: registry_status_refresh_many(
                pairs, cause=CreditEntry.Cause.AUDIT, actor=actor
            )
        )
