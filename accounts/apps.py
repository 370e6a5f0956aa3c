from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _refresh_bureau_group(sender, **kwargs):
    """Keep the bureau staff group's permissions in step with BUREAU_PERMISSIONS after every
    migrate (new models bring new permissions; they exist only once migrate has run)."""
    from .services import bureau_group_ensure

    bureau_group_ensure()


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("People and organisations")

    def ready(self):
        # Last app with permissions in INSTALLED_APPS: every permission exists by then.
        post_migrate.connect(_refresh_bureau_group, dispatch_uid="accounts.bureau_group")
        # Activating the authenticator counts as this session's second factor (staff_auth.py).
        from allauth.mfa.signals import authenticator_added

        from .staff_auth import record_totp_activation

        authenticator_added.connect(record_totp_activation, dispatch_uid="accounts.totp_activation")
