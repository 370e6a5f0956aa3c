from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The bottom layer: helpers every app may use and that use no app (the domain error,
    uploads, exports, rate limits, the jurisdiction resolver, the access-policy helpers)."""

    name = "core"
    verbose_name = "core"
