from django.conf import settings


def portal(request):
    from accounts.roles import roles_of

    user = getattr(request, "user", None)
    role = roles_of(user).role.value if user is not None else "anonymous"
    context = {"PORTAL_NAME": settings.PORTAL_NAME, "portal_role": role}
    if role != "anonymous":
        from django.utils.functional import SimpleLazyObject

        from registry.selectors import unread_notice_count

        # Lazy: pages that never render the navigation (downloads, redirects) pay nothing.
        context["unread_notices"] = SimpleLazyObject(lambda: unread_notice_count(user=user))
    return context
