from django.core.exceptions import ValidationError


class DomainError(ValidationError):
    """A business rule refused an action. Its message is translatable and shown to the user."""
