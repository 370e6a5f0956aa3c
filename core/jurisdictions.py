"""The nearest-ancestor resolver: windows, hours rules, reviewers and the jobs' scopes all ask
"the nearest jurisdiction up the chain that has X" the same way.

A jurisdiction's `path` is the chain of division codes from the province down
("430000/433100/433101/"), so its ancestors' codes are in its own path and the nearest one is
the one with the longest path. Plain values only: core knows no app's models.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from django.db.models import CharField, F, QuerySet, Value

T = TypeVar("T")


def ancestor_codes(path: str) -> list[str]:
    """The codes on `path`, from the top of the tree down to the jurisdiction itself."""
    return [code for code in path.split("/") if code]


def nearest(path: str, by_code: Mapping[str, T]) -> T | None:
    """The value of the nearest jurisdiction on `path` (itself, then up the tree) that has one
    in `by_code`; None if none has."""
    for code in reversed(ancestor_codes(path)):
        if code in by_code:
            return by_code[code]
    return None


def nearest_in(queryset: QuerySet, *, path: str, via: str = "jurisdiction") -> QuerySet:
    """`queryset` narrowed to the rows of the jurisdictions on `path` (through the relation
    `via`), nearest first: `.first()` is the nearest one that has a row. One query."""
    return queryset.filter(**{f"{via}__code__in": ancestor_codes(path)}).order_by(f"-{via}__path")


def on_path(queryset: QuerySet, *, path: str, via: str = "jurisdiction") -> QuerySet:
    """`nearest_in` with `path` as one SQL parameter: the rows of the jurisdictions whose path
    begins `path` (itself and the ones above it), nearest first. For prepared queries
    (core.prepared), whose SQL must not change with the depth of `path`."""
    return (
        queryset.alias(_on_path=Value(path, output_field=CharField()))
        .filter(_on_path__startswith=F(f"{via}__path"))
        .order_by(f"-{via}__path")
    )
