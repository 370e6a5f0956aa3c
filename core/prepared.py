"""Querysets compiled to SQL once per process and thread, then run again with other values.

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
Pass derived values as parameters of their own. Where the *shape* of the SQL depends on a value
(a list whose length varies), pass `shape=`: one compiled query is kept per shape.
"""

from __future__ import annotations

import copy
import datetime as dt
import threading
from collections.abc import Callable, Hashable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models import QuerySet

_STAND_INS: dict[type, Callable[[int, int], Any]] = {
    # Within every integer column's range (Django 5 compiles an out-of-range value to "no
    # rows"), e.g. a positive small integer's.
    int: lambda n, round_: 30011 + 100 * round_ + n,
    dt.date: lambda n, round_: dt.date(1111 + 100 * round_ + n, 11, 11),
    str: lambda n, round_: f"\x1fstand-in {round_} {n}\x1f",
}


class _Compiled:
    __slots__ = ("connection", "queryset", "compiler", "sql", "params", "positions")


class PreparedQuery:
    def __init__(self, build: Callable[..., QuerySet], **examples: Any) -> None:
        """`build(**values)` returns the queryset; `examples` names its values, each with an
        example of its type (int, str or date)."""
        for name, example in examples.items():
            if type(example) not in _STAND_INS:
                raise ImproperlyConfigured(f"PreparedQuery: no stand-in for {name}'s type")
        self.build = build
        self.types = {name: type(example) for name, example in examples.items()}
        self._local = threading.local()

    def _stand_ins(self, round_: int) -> dict[str, Any]:
        return {
            name: _STAND_INS[kind](n, round_) for n, (name, kind) in enumerate(self.types.items())
        }

    def _compile(self, connection, shape: Hashable, **fixed: Any) -> _Compiled:
        compiled = []
        for round_ in (0, 1):
            stand_ins = self._stand_ins(round_)
            queryset = self.build(**stand_ins, **fixed)
            compiler = queryset.query.get_compiler(using=queryset.db)
            sql, params = compiler.as_sql()
            compiled.append((stand_ins, queryset, compiler, sql, tuple(params)))
        (first, queryset, compiler, sql, params), (second, _, _, sql_2, params_2) = compiled
        positions: dict[str, list[int]] = {name: [] for name in self.types}
        where = {(type(value), value): name for name, value in first.items()}
        for i, (a, b) in enumerate(zip(params, params_2, strict=False)):
            name = where.get((type(a), a))
            if name is not None and b == second[name]:
                positions[name].append(i)
            elif a != b:
                raise ImproperlyConfigured(
                    f"PreparedQuery {self.build!r}: parameter {i} depends on a value in a way "
                    "the stand-ins cannot follow (computed in Python?)"
                )
        if sql != sql_2 or len(params) != len(params_2):
            raise ImproperlyConfigured(
                f"PreparedQuery {self.build!r}: the SQL changes with the values (pass shape=)"
            )
        missing = [name for name, found in positions.items() if not found]
        if missing:
            raise ImproperlyConfigured(
                f"PreparedQuery {self.build!r}: {', '.join(missing)} not among the parameters"
            )
        entry = _Compiled()
        entry.connection, entry.queryset, entry.compiler = connection, queryset, compiler
        entry.sql, entry.params, entry.positions = sql, params, positions
        return entry

    def _entry(self, shape: Hashable, fixed: dict[str, Any]) -> _Compiled:
        cache = getattr(self._local, "compiled", None)
        if cache is None:
            cache = self._local.compiled = {}
        connection = connections["default"]
        key = (shape, tuple(sorted(fixed.items())))
        entry = cache.get(key)
        if entry is None or entry.connection is not connection:
            entry = cache[key] = self._compile(connection, shape, **fixed)
        return entry

    def run(self, *, shape: Hashable = None, fixed: dict[str, Any] | None = None, **values):
        """The rows (as the queryset would give them) for these values. `fixed` are arguments
        of `build` that are not parameters (each combination is compiled once, like a shape)."""
        entry = self._entry(shape, fixed or {})
        params = list(entry.params)
        for name, value in values.items():
            for i in entry.positions[name]:
                params[i] = value
        bound = tuple(params)
        compiler = copy.copy(entry.compiler)
        compiler.as_sql = lambda *args, **kwargs: (entry.sql, bound)
        queryset = entry.queryset
        return list(
            queryset._iterable_class(_Evaluated(queryset, _Query(queryset.query, compiler)))
        )


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
