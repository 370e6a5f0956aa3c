import pytest
from django.utils import timezone

from tests import factories as f

YEAR = timezone.localdate().year


@pytest.fixture(autouse=True)
def _english_messages(english):
    """Service messages are asserted in English here (the catalogue's Chinese is checked in the
    page and notice tests that ask for it)."""


@pytest.fixture
def filing_world(world):
    """The world with an open window for YEAR in the province (inherited by every county)."""
    f.open_window(world.province, YEAR)
    return world


@pytest.fixture
def draft(filing_world):
    """The manager's draft for YEAR with all five proofs."""
    from registry import services

    filing = services.filing_start(actor=filing_world.manager.user, year=YEAR)
    f.add_proofs(filing)
    return filing


@pytest.fixture
def submitted(draft, filing_world, django_capture_on_commit_callbacks):
    from registry import services

    with django_capture_on_commit_callbacks(execute=True):
        return services.filing_submit(actor=filing_world.manager.user, filing=draft)


@pytest.fixture
def forwarded(submitted, filing_world, django_capture_on_commit_callbacks):
    from registry import services

    with django_capture_on_commit_callbacks(execute=True):
        return services.filing_firm_approve(actor=filing_world.reviewer, filing=submitted)


@pytest.fixture
def approved(forwarded, filing_world, django_capture_on_commit_callbacks):
    from registry import services

    with django_capture_on_commit_callbacks(execute=True):
        return services.filing_bureau_approve(actor=filing_world.bureau, filing=forwarded)
