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
