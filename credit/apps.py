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
