from django.conf import settings


def portal(request):
    from accounts.roles import roles_of

    user = getattr(request, "user", None)
    role = roles_of(user).role.value if user is not None else "anonymous"
    return {"PORTAL_NAME": settings.PORTAL_NAME, "portal_role": role}
