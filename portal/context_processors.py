from django.conf import settings
from django.utils.functional import SimpleLazyObject

from accounts.roles import roles_of
from notifications.selectors import UNREAD_ANNOTATION, unread_notice_count


def portal(request):
    user = getattr(request, "user", None)
    roles = roles_of(user) if user is not None else None
    role = roles.role.value if roles is not None else "anonymous"
    context = {"PORTAL_NAME": settings.PORTAL_NAME, "portal_role": role}
    if role != "anonymous":
        # Read with the user and the roles when the request's user came from the session (one
        # query, see accounts.roles); otherwise counted when a page shows it.
        unread = roles.annotation(UNREAD_ANNOTATION)
        context["unread_notices"] = (
            unread
            if unread is not None
            else SimpleLazyObject(lambda: unread_notice_count(user=user))
        )
    return context
