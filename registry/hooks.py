"""Who is told, after the commit, that a manager's registry inputs changed (a status decided
again, a conduct record entered, changed, voided or repaired): apps above the registry (the
credit file recomputes his score) register here in their AppConfig.ready, so the registry
imports nothing above it."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

_listeners: list[Callable[[int], None]] = []


def manager_changed_register(listener: Callable[[int], None]) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def manager_changed(manager_id: int) -> None:
    """Call every listener with the manager's id once the open transaction commits."""
    for listener in list(_listeners):
        transaction.on_commit(lambda listener=listener: listener(manager_id))
