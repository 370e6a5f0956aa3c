from django.conf import settings
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from accounts.roles import roles_of
from notifications.selectors import unread_notice_count
from registry.selectors import filing_in_view


def portal(request):
    user = getattr(request, "user", None)
    role = roles_of(user).role.value if user is not None else "anonymous"
    context = {"PORTAL_NAME": settings.PORTAL_NAME, "portal_role": role}
    if role != "anonymous":
        # Lazy: pages that never render the navigation (downloads, redirects) pay nothing.
        context["unread_notices"] = SimpleLazyObject(lambda: unread_notice_count(user=user))
    if role == "manager":
        # The year being filed, for the banner of the manager's pages (overview, hours, filing);
        # lazy: only the pages that include the banner query for it.
        profile = roles_of(user).manager_profile
        if profile is not None:
            context["filing_in_view"] = SimpleLazyObject(
                lambda: filing_in_view(manager=profile, today=timezone.localdate())
            )
    return context
