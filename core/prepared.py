"""Querysets compiled to SQL once per process, then run again with other values.

Django builds and compiles a queryset's SQL on every evaluation. For the few reads that run on
nearly every request (the session's user with his roles, a manager's calendar and hours), that
compiling cost more CPU than PostgreSQL spent answering (`scripts/profile.sh`). A
`PreparedQuery` builds its queryset once with stand-in values, keeps the compiled SQL and the
compiler, and on each call only swaps the values into the parameters and lets Django's own
iterable turn the rows into objects (models with their `select_related` and annotations,
`values()` dicts or tuples) exactly as the queryset would.

    _user = PreparedQuery(lambda user_id: users_with_roles().filter(pk=user_id)[:1], user_id=0)
    rows = _user.run(user_id=42)

The values may only reach the SQL as parameters, unchanged: `build` must not compute with
them in Python (`year - 1` would be compiled in as a constant). This is checked when the query
is prepared: it is compiled with two different sets of stand-ins, and the SQL must be the same
and the parameters must differ exactly where the stand-ins are; otherwise ImproperlyConfigured.
Pass derived values as parameters of their own, and keep lists whose length varies out (the
SQL's shape must not depend on the values).

With `PORTAL_PREPARED_STATEMENTS` (the default), each query is also a server-side prepared
statement (PREPARE ... / EXECUTE name(...)): PostgreSQL plans it once per database session
instead of on every request, and planning these joins cost it more than running them. They
are prepared when a session opens (`prepare_on_connect`), so no request pays for it.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import logging
import re
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.backends.signals import connection_created
from django.db.models import QuerySet
from django.dispatch import receiver

_STAND_INS: dict[type, Callable[[int, int], Any]] = {
    # Within every integer column's range (Django 5 compiles an out-of-range value to "no
    # rows"), e.g. a positive small integer's.
    int: lambda n, round_: 30011 + 100 * round_ + n,
    dt.date: lambda n, round_: dt.date(1111 + 100 * round_ + n, 11, 11),
    dt.datetime: lambda n, round_: dt.datetime(1111 + 100 * round_ + n, 11, 11, tzinfo=dt.UTC),
    str: lambda n, round_: f"\x1fstand-in {round_} {n}\x1f",
}


class _Compiled:
    """A query compiled once per process: its SQL, where its values go, its statement."""

    __slots__ = ("queryset", "compiler", "sql", "params", "positions", "statement")


def _session_state(connection) -> tuple[Any, set[str], set[str]]:
    """(the database session, the statements prepared on it, those it refused), kept on the
    thread's connection wrapper and started afresh when the wrapper opens a new session (the
    session object itself is kept, so a closed one cannot be mistaken for a new one)."""
    session = connection.connection  # the psycopg2 connection: one server session
    state = getattr(connection, "_portal_prepared", None)
    if state is None or state[0] is not session:
        state = connection._portal_prepared = (session, set(), set())
    return state


# PostgreSQL types of the parameters of a server-side prepared statement, by Python type (bool
# before int: a bool is an int). A parameter of any other type keeps the query unprepared.
_PG_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (int, "bigint"),
    (float, "double precision"),
    (Decimal, "numeric"),
    (str, "text"),
    (dt.datetime, "timestamptz"),
    (dt.date, "date"),
)
_PLACEHOLDER = re.compile(r"%([s%])")
_names = itertools.count(1)
_SQL_BY_NAME: dict[str, str] = {}
logger = logging.getLogger(__name__)


def original_sql(sql: str) -> str:
    """The query behind `EXECUTE portal_prepared_N(...)` as Django compiled it (for tests and
    profiles that read captured SQL); any other SQL as it is."""
    match = re.match(r"EXECUTE (portal_prepared_\d+)\(", sql)
    return _SQL_BY_NAME.get(match.group(1), sql) if match else sql


def _statement(sql: str, params: tuple) -> tuple[str, str] | None:
    """(name, PREPARE statement) for Django's `sql` with `params`, or None if a parameter's
    type is not one PostgreSQL can be told (`_PG_TYPES`)."""
    types = []
    for value in params:
        found = next((pg for kind, pg in _PG_TYPES if isinstance(value, kind)), None)
        if found is None:
            return None
        types.append(found)
    numbers = itertools.count(1)
    text = _PLACEHOLDER.sub(lambda m: f"${next(numbers)}" if m.group(1) == "s" else "%", sql)
    name = f"portal_prepared_{next(_names)}"
    _SQL_BY_NAME[name] = sql
    return name, f"PREPARE {name} ({', '.join(types)}) AS {text}"


class PreparedQuery:
    def __init__(
        self, build: Callable[..., QuerySet], *, on_connect: bool = True, **examples: Any
    ) -> None:
        """`build(**values)` returns the queryset; `examples` names its values, each with an
        example of its type (int, str, date or an aware datetime). `on_connect`: prepared on
        every new database session (see `prepare_on_connect`), not at its first use."""
        for name, example in examples.items():
            if type(example) not in _STAND_INS:
                raise ImproperlyConfigured(f"PreparedQuery: no stand-in for {name}'s type")
        self.build = build
        self.types = {name: type(example) for name, example in examples.items()}
        self._compiled: _Compiled | None = None
        self._lock = threading.RLock()  # compiling may open the connection, which prepares
        if on_connect:
            _ON_CONNECT.append(self)

    def _stand_ins(self, round_: int) -> dict[str, Any]:
        return {
            name: _STAND_INS[kind](n, round_) for n, (name, kind) in enumerate(self.types.items())
        }

    def _compile(self) -> _Compiled:
        connection = connections[DEFAULT_DB_ALIAS]
        compiled = []
        for round_ in (0, 1):
            stand_ins = self._stand_ins(round_)
            queryset = self.build(**stand_ins).using(DEFAULT_DB_ALIAS)
            compiler = queryset.query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
            compiled.append((stand_ins, queryset, compiler, sql, tuple(params)))
        (first, queryset, compiler, sql, params), (second, _, _, sql_2, params_2) = compiled
        if sql != sql_2 or len(params) != len(params_2):
            raise ImproperlyConfigured(
                f"PreparedQuery {self.build!r}: the SQL changes with the values"
            )
        positions: dict[str, list[int]] = {name: [] for name in self.types}
        where = {(type(value), value): name for name, value in first.items()}
        for i, (a, b) in enumerate(zip(params, params_2, strict=True)):
            name = where.get((type(a), a))
            if name is not None and b == second[name]:
                positions[name].append(i)
            elif a != b:
                raise ImproperlyConfigured(
                    f"PreparedQuery {self.build!r}: parameter {i} depends on a value in a way "
                    "the stand-ins cannot follow (computed in Python?)"
                )
        missing = [name for name, found in positions.items() if not found]
        if missing:
            raise ImproperlyConfigured(
                f"PreparedQuery {self.build!r}: {', '.join(missing)} not among the parameters"
            )
        entry = _Compiled()
        entry.queryset, entry.compiler = queryset, compiler
        entry.sql, entry.params, entry.positions = sql, params, positions
        entry.statement = _statement(sql, params)
        return entry

    def _entry(self) -> _Compiled:
        """The compiled query, once per process (every thread's connection runs a copy of its
        compiler: the backend is the same)."""
        if self._compiled is None:
            with self._lock:
                if self._compiled is None:
                    self._compiled = self._compile()
        return self._compiled

    def _prepare(self, entry: _Compiled, connection, *, connecting: bool = False) -> bool:
        """PREPARE the statement on the connection's database session, once per session (True
        if it is prepared there). In a transaction, inside a savepoint: a statement PostgreSQL
        refuses must not break it. If it refuses when the query is used, the query runs
        unprepared on that session; when connecting (before `migrate` has made the tables,
        say), it is tried again at first use."""
        if entry.statement is None:
            return False
        name, prepare = entry.statement
        _session, prepared, refused = _session_state(connection)
        if name in prepared or name in refused:
            return name in prepared
        try:
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute(prepare)
        except DatabaseError:
            if not connecting:
                logger.warning("Could not prepare %s; it runs unprepared", name, exc_info=True)
                refused.add(name)
            return False
        prepared.add(name)
        return True

    def run(self, **values) -> list:
        """The rows (as the queryset would give them) for these values."""
        connection = connections[DEFAULT_DB_ALIAS]
        entry = self._entry()
        params = list(entry.params)
        for name, value in values.items():
            for i in entry.positions[name]:
                params[i] = value
        bound = tuple(params)
        statement = (entry.sql, bound)
        if settings.PORTAL_PREPARED_STATEMENTS and entry.statement is not None:
            connection.ensure_connection()
            if self._prepare(entry, connection):
                name = entry.statement[0]
                statement = (f"EXECUTE {name}({', '.join(['%s'] * len(bound))})", bound)
        compiler = copy.copy(entry.compiler)
        compiler.connection, compiler.using = connection, connection.alias
        compiler.as_sql = lambda *args, **kwargs: statement
        queryset = entry.queryset
        return list(
            queryset._iterable_class(_Evaluated(queryset, _Query(queryset.query, compiler)))
        )


_ON_CONNECT: list[PreparedQuery] = []


@receiver(connection_created)
def prepare_on_connect(sender, connection, **kwargs) -> None:
    """Prepare every application query on a new database session, so that no request pays for
    it (and a page's query count is the same on its first visit as on the next)."""
    if (
        connection.vendor != "postgresql"
        or connection.alias != DEFAULT_DB_ALIAS
        or not settings.PORTAL_PREPARED_STATEMENTS
    ):
        return
    entries = []
    for query in _ON_CONNECT:
        try:
            entries.append((query, query._entry()))
        except Exception:  # a query that cannot be compiled here is compiled at its first use
            logger.warning("Could not compile %r on connecting", query.build, exc_info=True)
    # A database `migrate` has not made yet (a new installation, a new test database) would
    # only fill PostgreSQL's log with errors: those sessions prepare after `migrate`.
    tables = sorted({entry.queryset.model._meta.db_table for _query, entry in entries})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT bool_and(to_regclass(quote_ident(t)) IS NOT NULL) FROM unnest(%s::text[]) t",
            [tables],
        )
        if not cursor.fetchone()[0]:
            return
    for query, entry in entries:
        query._prepare(entry, connection, connecting=True)


class _Query:
    """The compiled query: hands out the prepared compiler; everything else is the query's."""

    def __init__(self, query, compiler) -> None:
        self._query, self._compiler = query, compiler

    def get_compiler(self, *args, **kwargs):
        return self._compiler

    def __getattr__(self, name: str):
        return getattr(self._query, name)


class _Evaluated:
    """What Django's iterables read of a queryset (not a copy of it: copying a QuerySet would
    evaluate it)."""

    def __init__(self, queryset: QuerySet, query: _Query) -> None:
        self.db = queryset.db
        self.model = queryset.model
        self.query = query
        self._known_related_objects = queryset._known_related_objects
        self._fields = queryset._fields


def prepare_after_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    """`post_migrate`: the session that ran `migrate` prepares what it could not before."""
    prepare_on_connect(sender, connections[using])
