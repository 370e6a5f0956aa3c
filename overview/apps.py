from django.apps import AppConfig


class OverviewConfig(AppConfig):
    """The top layer: pages and data that span the apps (each role's overview, the manager's
    detail page, the firm's manager list with registry statuses and grades, the demo data)."""

    name = "overview"
    verbose_name = "overview"

    def ready(self):
        # The firms are told of their managers' grade changes: the recompute (credit, below)
        # hands over its table of changes.
        from credit.scoring import grade_change_hook_register

        from .notices import grade_change_notices

        grade_change_hook_register(grade_change_notices)
