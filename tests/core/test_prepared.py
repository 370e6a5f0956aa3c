"""core.prepared: a queryset compiled once gives what the queryset gives, for any values, and
refuses a build that would bake a value into the SQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections, models
from django.test.utils import CaptureQueriesContext

from accounts.models import Employment, ManagerProfile
from accounts.roles import user_with_roles
from core import prepared as prepared_module
from core.jurisdictions import on_path
from core.prepared import PreparedQuery, original_sql
from registry.models import FilingWindow

pytestmark = pytest.mark.django_db


def by_manager(manager_id):
    return (
        Employment.objects.select_related("firm", "manager")
        .filter(manager_id=manager_id)
        .order_by("pk")
    )


def test_the_rows_are_the_querysets_for_every_value_and_compiled_once(world):
    prepared = PreparedQuery(by_manager, on_connect=False, manager_id=0)
    for manager in (world.manager, world.other_manager, world.manager):
        rows = prepared.run(manager_id=manager.pk)
        expected = list(by_manager(manager.pk))
        assert [(e.pk, e.firm.name, e.manager.real_name) for e in rows] == [
            (e.pk, e.firm.name, e.manager.real_name) for e in expected
        ]
        assert rows and all(e.manager_id == manager.pk for e in rows)
    # select_related came along: reading the firm costs no query
    with CaptureQueriesContext(connection) as queries:
        rows = prepared.run(manager_id=world.manager.pk)
        assert rows[0].firm.name
    assert len(queries) == 1


def test_values_dates_and_strings_are_parameters(world):
    FilingWindow.objects.create(
        jurisdiction=world.province,
        year=2031,
        opens_on=dt.date(2032, 1, 1),
        closes_on=dt.date(2032, 3, 31),
    )

    def windows(path, year, after):
        return on_path(FilingWindow.objects.filter(year=year, closes_on__gt=after), path=path)

    prepared = PreparedQuery(windows, on_connect=False, path="", year=0, after=dt.date(2000, 1, 1))
    found = prepared.run(path=world.county.path, year=2031, after=dt.date(2032, 1, 1))
    assert [w.year for w in found] == [2031]
    assert prepared.run(path=world.county.path, year=2031, after=dt.date(2032, 4, 1)) == []
    assert prepared.run(path=world.county.path, year=2030, after=dt.date(2000, 1, 1)) == []
    assert prepared.run(path="999999/", year=2031, after=dt.date(2000, 1, 1)) == []


def test_values_and_values_list_querysets():
    prepared = PreparedQuery(
        lambda pk: ManagerProfile.objects.filter(pk=pk).values_list("pk", flat=True),
        on_connect=False,
        pk=0,
    )
    assert prepared.run(pk=-1) == []


def test_a_value_computed_in_python_is_refused(world):
    prepared = PreparedQuery(
        lambda year: FilingWindow.objects.filter(year__in=[year - 1, year]),
        on_connect=False,
        year=0,
    )
    with pytest.raises(ImproperlyConfigured, match="computed in Python"):
        prepared.run(year=2026)


def test_sql_whose_shape_follows_a_value_is_refused():
    prepared = PreparedQuery(
        lambda n: FilingWindow.objects.filter(year__in=list(range(2000, 2000 + n % 7 + 1))),
        on_connect=False,
        n=0,
    )
    with pytest.raises(ImproperlyConfigured):
        prepared.run(n=3)


def test_a_value_that_never_reaches_the_sql_is_refused():
    prepared = PreparedQuery(lambda year: FilingWindow.objects.all(), on_connect=False, year=0)
    with pytest.raises(ImproperlyConfigured, match="not among the parameters"):
        prepared.run(year=2026)


@pytest.mark.django_db(transaction=True)
def test_each_thread_runs_on_its_own_connection(world):
    prepared = PreparedQuery(by_manager, on_connect=False, manager_id=0)
    assert prepared.run(manager_id=world.manager.pk)
    seen = {}

    def other_thread():
        try:
            seen["rows"] = [e.pk for e in prepared.run(manager_id=world.other_manager.pk)]
            seen["connection"] = connections["default"]
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen["rows"] == [e.pk for e in by_manager(world.other_manager.pk)]
    assert seen["connection"] is not connections["default"]


def test_the_session_user_is_read_with_his_roles_for_any_id(world):
    user = user_with_roles(world.manager.user_id)
    assert user.pk == world.manager.user_id and user.manager_profile.pk == world.manager.pk
    assert user_with_roles(world.reviewer.pk).pk == world.reviewer.pk
    assert user_with_roles(10**9) is None
    assert user_with_roles("not a number") is None


@pytest.mark.django_db(transaction=True)
def test_a_new_database_session_prepares_the_hot_reads_when_it_opens(world):
    connection.close()
    connection.ensure_connection()  # connection_created: every application query prepared
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, statement FROM pg_prepared_statements")
        prepared = dict(cursor.fetchall())
    assert any('FROM "accounts_user"' in sql for sql in prepared.values())
    assert any('FROM "django_session"' in sql for sql in prepared.values())
    with CaptureQueriesContext(connection) as queries:
        user = user_with_roles(world.manager.user_id)
    assert user.manager_profile.pk == world.manager.pk
    assert len(queries) == 1 and queries[0]["sql"].startswith("EXECUTE portal_prepared_")
    assert 'FROM "accounts_user"' in original_sql(queries[0]["sql"])


@pytest.mark.django_db(transaction=True)
def test_a_statement_postgresql_refuses_runs_unprepared(world, settings):
    """A statement PostgreSQL refuses to prepare runs unprepared; the request goes on."""
    prepared = PreparedQuery(by_manager, on_connect=False, manager_id=0)
    entry = prepared._entry()
    name = entry.statement[0]
    with connection.cursor() as cursor:
        cursor.execute(f"PREPARE {name} AS SELECT 1")  # its name taken on this session
    rows = prepared.run(manager_id=world.manager.pk)
    assert [e.pk for e in rows] == [e.pk for e in by_manager(world.manager.pk)]
    with CaptureQueriesContext(connection) as queries:
        prepared.run(manager_id=world.manager.pk)
    assert not queries[0]["sql"].startswith("EXECUTE")  # unprepared on this session


def test_without_prepared_statements_the_query_itself_runs(world, settings):
    settings.PORTAL_PREPARED_STATEMENTS = False
    prepared = PreparedQuery(by_manager, on_connect=False, manager_id=0)
    with CaptureQueriesContext(connection) as queries:
        rows = prepared.run(manager_id=world.manager.pk)
    assert rows and queries[0]["sql"].startswith("SELECT")


class Ghost(models.Model):
    """A model whose table no database has: as before `migrate`."""

    class Meta:
        app_label = "core"
        db_table = "core_ghost_never_migrated"
        managed = False

    def __str__(self) -> str:
        return "ghost"


def test_a_database_without_the_tables_prepares_nothing_on_connecting(db, monkeypatch):
    ghost = PreparedQuery(lambda pk: Ghost.objects.filter(pk=pk), on_connect=False, pk=0)
    monkeypatch.setattr(prepared_module, "_ON_CONNECT", [ghost])
    with CaptureQueriesContext(connection) as queries:
        prepared_module.prepare_on_connect(None, connections["default"])
    assert len(queries) == 1 and "to_regclass" in queries[0]["sql"]  # no PREPARE tried
