from django.conf import settings
from django.utils.functional import SimpleLazyObject

from accounts.roles import roles_of
from notifications.selectors import unread_notice_count


def portal(request):
    user = getattr(request, "user", None)
    role = roles_of(user).role.value if user is not None else "anonymous"
    context = {"PORTAL_NAME": settings.PORTAL_NAME, "portal_role": role}
    if role != "anonymous":
        # Lazy: pages that never render the navigation (downloads, redirects) pay nothing.
        context["unread_notices"] = SimpleLazyObject(lambda: unread_notice_count(user=user))
    return context
