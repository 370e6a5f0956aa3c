from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CreditConfig(AppConfig):
    name = "credit"
    verbose_name = _("Credit files")

    def ready(self):
        # The notices name a list entry's cause by its code; their wording reads the labels here.
        from notifications.wording import reason_labels_register

        from .models import SupervisionEntry

        reason_labels_register(SupervisionEntry.Cause.choices)

        # A status decided again or a conduct record changed: this manager's score, after the
        # commit, by the worker (never blocking the request).
        from core.broker import publish
        from registry.hooks import manager_changed_register

        manager_changed_register(
            lambda manager_id: publish("credit.recompute_manager", [manager_id])
        )
