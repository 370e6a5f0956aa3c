"""The selectors other pages use: the grade and the list flag for a whole list in one query, the
grade distribution, the active entries."""

import datetime as dt

from accounts.models import ManagerProfile
from credit import selectors, services
from credit.models import CreditScore, SupervisionEntry
from credit.scoring import scores_recompute
from tests import factories as f

from .conftest import TODAY, approved, decided, record


def test_with_credit_annotates_a_whole_list_in_one_query(world, django_assert_num_queries):
    managers = f.bulk_managers(20, "w", firm=world.firm)
    for m in managers[:10]:
        decided(m)
        approved(m)
    for m in managers[10:15]:
        decided(m, reasons=["hours_short"])
        record(m, "bad")
    scores_recompute()
    services.supervision_list(actor=world.bureau, manager=managers[0], reason="x")
    with django_assert_num_queries(1):
        ids = [m.pk for m in managers]
        rows = {m.pk: m for m in selectors.with_credit(ManagerProfile.objects.filter(pk__in=ids))}
    assert (rows[managers[0].pk].credit_grade, rows[managers[0].pk].on_supervision) == ("AA", True)
    assert rows[managers[0].pk].credit_score == 80
    assert (rows[managers[12].pk].credit_grade, rows[managers[12].pk].on_supervision) == (
        "C",
        False,
    )
    assert rows[managers[19].pk].credit_grade is None


def test_grade_counts_and_grade_for(world):
    decided(world.manager)
    approved(world.manager)
    decided(world.other_manager, reasons=["not_filed"])
    record(world.other_manager, "bad", severity="serious")
    scores_recompute()
    counts = selectors.grade_counts(CreditScore.objects.filter(latest=True))
    assert counts == {"AAA": 0, "AA": 1, "A": 0, "B": 0, "C": 1}
    county = selectors.grade_counts(
        CreditScore.objects.filter(year=2026, jurisdiction__path__startswith=world.county.path)
    )
    assert sum(county.values()) == 1
    assert selectors.grade_for(manager=world.manager).grade == "AA"
    assert selectors.grade_for(manager=f.ManagerProfileFactory()) is None


def test_active_entries_respect_the_period_and_the_end(world):
    entry = services.supervision_list(
        actor=world.bureau, manager=world.manager, reason="x", days=10
    )
    active = selectors.supervision_entries_active
    assert list(active()) == [entry]
    assert list(active(on=TODAY + dt.timedelta(days=9))) == [entry]
    assert list(active(on=TODAY + dt.timedelta(days=10))) == []
    services.supervision_delist(actor=world.bureau, entry=entry, reason="y")
    assert list(active()) == []
    assert SupervisionEntry.objects.count() == 1
