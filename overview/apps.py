from django.apps import AppConfig


class OverviewConfig(AppConfig):
    """The top layer: pages and data that span the apps (each role's overview, the manager's
    detail page, the firm's manager list with registry statuses, the demo data)."""

    name = "overview"
    verbose_name = "overview"
