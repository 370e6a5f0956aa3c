"""Password rules beyond Django's own validators (listed in AUTH_PASSWORD_VALIDATORS)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .staff_auth import is_staff_account

STAFF_PASSWORD_MIN_LENGTH = 12


class StaffMinimumLengthValidator:
    """Staff accounts (bureau officials, administrators, any is_staff user) need passwords of at
    least `min_length` characters; everyone else keeps Django's MinimumLengthValidator.

    The user decides: Django's password forms (allauth's change and reset, the admin's) pass the
    account; a new staff member's password is checked against an unsaved is_staff user."""

    def __init__(self, min_length: int = STAFF_PASSWORD_MIN_LENGTH):
        self.min_length = min_length

    def validate(self, password: str, user=None) -> None:
        if len(password) >= self.min_length or not is_staff_account(user):
            return
        raise ValidationError(
            _(
                "This password is too short. Passwords of staff accounts must contain at least "
                "%(min_length)d characters."
            ),
            code="password_too_short_for_staff",
            params={"min_length": self.min_length},
        )

    def get_help_text(self) -> str:
        return _(
            "Staff accounts (housing bureau, administrators) need at least %(min_length)d "
            "characters."
        ) % {"min_length": self.min_length}
