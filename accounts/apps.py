from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("People and organisations")

    def ready(self):
        # Models can be imported only once the registry is ready: Django's one place for an
        # import inside a function.
        from .services import bureau_group_refresh

        post_migrate.connect(bureau_group_refresh, dispatch_uid="accounts.bureau_group")
        # Activating the authenticator counts as this session's second factor (staff_auth.py).
        from allauth.mfa.signals import authenticator_added

        from .staff_auth import record_totp_activation

        authenticator_added.connect(record_totp_activation, dispatch_uid="accounts.totp_activation")
        # allauth's rate limits (log-in, sign-up, password reset, ...) use the cache with no
        # setting for what a failure means: with Redis down or hung every log-in was an error
        # page. They fail open, as the public pages' limits do (README "Faults"); the one-time
        # codes fail closed (forms.MFAAuthenticateForm). tests/faults/test_cache_pages.py
        # notices if allauth moves this.
        from allauth.core.internal import ratelimit as allauth_ratelimit

        from core.cache import FailOpenCache

        if not isinstance(allauth_ratelimit.cache, FailOpenCache):
            allauth_ratelimit.cache = FailOpenCache(allauth_ratelimit.cache)
