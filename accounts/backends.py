"""The authentication backends: Django's and allauth's, reading the session's user together with
its roles (and what `roles.roles_annotation_register` adds, such as the unread notices) in one
query, instead of the user first and the roles in a second query on every request."""

from allauth.account import auth_backends
from django.contrib.auth import backends
from django.contrib.auth.models import Permission
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Q

from .roles import user_with_roles


class _UserWithRoles:
    def get_user(self, user_id):
        user = user_with_roles(user_id)
        if user is None or not self.user_can_authenticate(user):
            return None
        # The session's user and his profile (read with him) live for this one request: pages
        # may keep what they read about him there (registry.selectors.manager_calendar).
        try:
            user.manager_profile.request_scoped = True
        except ObjectDoesNotExist:
            pass
        return user

    def get_all_permissions(self, user_obj, obj=None):
        """The user's own and his groups' permissions in one query, not one each (every admin
        page asks); the same set as Django's, cached on the user as Django caches it."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            perms = (
                Permission.objects.filter(Q(user=user_obj) | Q(group__user=user_obj))
                .order_by()
                .values_list("content_type__app_label", "codename")
                .distinct()
            )
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in perms}
        return user_obj._perm_cache


class ModelBackend(_UserWithRoles, backends.ModelBackend):
    pass


class AuthenticationBackend(_UserWithRoles, auth_backends.AuthenticationBackend):
    pass
