from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """Notices in the portal and their e-mails: the model, who is told, the wording, creation
    in the transaction of the change (an outbox), delivery with claim, retry and back-off, the
    periodic sweep, and the unread count. Layer: above accounts, below training and registry."""

    name = "notifications"
    verbose_name = _("Notices")

    def ready(self):
        from accounts.roles import roles_annotation_register

        # Register the tasks with Celery in every process (web, worker, tests): the services
        # publish them by name.
        from . import tasks  # noqa: F401
        from .selectors import UNREAD_ANNOTATION, unread_notice_count_expression

        # The unread count for the bell in the navigation comes with the request's user and
        # roles, in one query (accounts.roles), not as a query of every page.
        roles_annotation_register(UNREAD_ANNOTATION, unread_notice_count_expression)
