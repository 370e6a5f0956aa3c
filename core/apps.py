from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The bottom layer: helpers every app may use and that use no app (the domain error,
    uploads, exports, rate limits, the jurisdiction resolver, the access-policy helpers)."""

    name = "core"
    verbose_name = "core"

    def ready(self):
        # Django's one place for an import inside a function: modules that use models.
        from django.db.models.signals import post_migrate

        from . import prepared, sessions  # noqa: F401 (the session read is a prepared query)

        # A session opened before `migrate` made the tables (a new test database) prepares
        # the queries once they exist.
        post_migrate.connect(prepared.prepare_after_migrate, dispatch_uid="core.prepared")
