"""The change log behind the kept pages (accounts/pagechanges.py) on real PostgreSQL
connections, one per thread: two transactions changing the same manager's data never wait for
each other because of it, and each committed change counts in his page version, whichever
commits first."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from tests import factories as f
from tests.overview.test_kept_pages import YEAR, _version

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_writers_of_one_managers_data_do_not_wait_for_each_other(world):
    manager = world.manager
    before = _version(manager.user)
    first_wrote, second_done, release_first = (
        threading.Event(),
        threading.Event(),
        threading.Event(),
    )
    errors: list[BaseException] = []

    def first():
        try:
            with transaction.atomic():
                f.study_hours(manager, YEAR, Decimal("1.0"))
                first_wrote.set()
                # Holds its transaction open until the second has committed: had the log a row
                # per user to update, the second would wait here for this one (and time out).
                assert release_first.wait(10)
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    def second():
        try:
            assert first_wrote.wait(10)
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")
            with transaction.atomic():
                f.study_hours(manager, YEAR, Decimal("2.0"))
            second_done.set()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    try:
        assert second_done.wait(10), errors  # committed while the first was still open
        assert _version(manager.user) == before + 1  # the second's change counts at once
    finally:
        release_first.set()  # only now may the first commit
        for thread in threads:
            thread.join(10)
    assert not errors, errors
    assert _version(manager.user) == before + 2  # and the first's once it commits
