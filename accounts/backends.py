"""The authentication backends: Django's and allauth's, reading the session's user together with
its roles (and what `roles.roles_annotation_register` adds, such as the unread notices) in one
query, instead of the user first and the roles in a second query on every request."""

from allauth.account import auth_backends
from django.contrib.auth import backends

from .roles import user_with_roles


class _UserWithRoles:
    def get_user(self, user_id):
        user = user_with_roles(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_UserWithRoles, backends.ModelBackend):
    pass


class AuthenticationBackend(_UserWithRoles, auth_backends.AuthenticationBackend):
    pass
