"""Two officials deciding one objection or repair at the same moment, on real connections:
one decides, the other is told; one correction, one notice."""

import datetime as dt

import pytest

from core.errors import DomainError
from credit import services
from credit.models import Objection, RepairRequest
from notifications.models import Notice
from registry.models import CreditEntry
from tests.registry.test_concurrency import race

from .conftest import decided, record

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_officials_deciding_an_objection_at_once(world):
    status = decided(world.manager, reasons=["hours_short"])
    objection = services.objection_submit(
        actor=world.manager.user, target="status", pk=status.pk, reason="x"
    )
    results = race(
        lambda: services.objection_decide(
            actor=world.bureau, objection=objection, uphold=True, reason="a"
        ),
        lambda: services.objection_decide(
            actor=world.prefecture_bureau, objection=objection, uphold=True, reason="b"
        ),
    )
    assert results.count("ok") == 1
    [refused] = [r for r in results if r != "ok"]
    assert isinstance(refused, DomainError)
    assert Objection.objects.get(pk=objection.pk).status == "upheld"
    assert CreditEntry.objects.filter(cause=CreditEntry.Cause.CORRECTED).count() == 1
    assert Notice.objects.filter(kind=Notice.Kind.OBJECTION_DECIDED).count() == 1


def test_two_officials_deciding_a_repair_at_once(world):
    from tests import factories as f

    bad = record(world.manager, "bad", start=dt.date(2026, 9, 1))
    repair = services.repair_submit(
        actor=world.manager.user, record=bad, statement="x", proof=f.upload()
    )
    results = race(
        lambda: services.repair_decide(actor=world.bureau, repair=repair, approve=True, reason="a"),
        lambda: services.repair_decide(
            actor=world.prefecture_bureau, repair=repair, approve=False, reason="b"
        ),
    )
    assert results.count("ok") == 1
    assert RepairRequest.objects.get(pk=repair.pk).status in ("approved", "rejected")
    assert Notice.objects.filter(kind=Notice.Kind.REPAIR_DECIDED).count() == 1


def test_a_page_does_not_wait_for_the_daily_run(world, monkeypatch):
    """While another run holds the credit lock, one manager's refresh is left to the worker."""
    import threading

    from django.db import connection, transaction

    from credit.policy import lock

    held, release = threading.Event(), threading.Event()

    def daily():
        try:
            with transaction.atomic():
                lock()
                held.set()
                release.wait(20)
        finally:
            connection.close()

    thread = threading.Thread(target=daily)
    thread.start()
    try:
        assert held.wait(20)
        published = []
        monkeypatch.setattr(
            "credit.scoring.publish", lambda name, args: published.append((name, args))
        )
        result = services.credit_refresh(manager=world.manager)
        assert result.deferred
        # Queued after the commit, for the worker (which waits for the lock).
        assert published == [("credit.recompute_manager", [world.manager.pk])]
    finally:
        release.set()
        thread.join(20)
    assert not services.credit_refresh(manager=world.manager).deferred
