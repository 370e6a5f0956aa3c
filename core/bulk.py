"""One decision applied to many rows (the admin's bulk actions, the firm's bulk approval)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from .errors import DomainError

T = TypeVar("T")


def decide_each(
    items: Iterable[T], decide: Callable[..., object], *, item_arg: str, **kwargs
) -> list[tuple[T, str | None]]:
    """Call `decide(**{item_arg: item}, **kwargs)` for each item, each in its own transaction
    (the service's): (item, None) when done, (item, why not) when refused. One refusal (a
    colleague was quicker, a row out of reach) does not stop the others."""
    results: list[tuple[T, str | None]] = []
    for item in items:
        try:
            decide(**{item_arg: item}, **kwargs)
        except DomainError as exc:
            results.append((item, " ".join(exc.messages)))
        except PermissionDenied:
            results.append((item, _("Not in your reach; nothing was changed.")))
        else:
            results.append((item, None))
    return results
