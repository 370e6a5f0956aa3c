from django.conf import settings
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from accounts.roles import roles_of
from notifications.selectors import UNREAD_ANNOTATION, unread_notice_count
from registry.selectors import filing_in_view


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
    if role == "manager":
        # The year being filed, for the banner of the manager's pages (overview, hours, filing);
        # lazy: only the pages that include the banner query for it.
        profile = roles.manager_profile
        if profile is not None:
            context["filing_in_view"] = SimpleLazyObject(
                lambda: filing_in_view(manager=profile, today=timezone.localdate())
            )
    return context
