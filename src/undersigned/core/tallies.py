"""Kept counts ("tallies"): rows of ``(owner, kind, key[, more keys]) → count`` that the
services move in the same transaction as the write they count, so results pages read a
few small rows instead of counting millions (docs/performance.md, "Results pages").

``add_counts`` is the one way a tally moves: a single ``INSERT … ON CONFLICT (…) DO
UPDATE SET count = count + excluded.count`` for every row a write touches, on SQLite
and PostgreSQL alike. Race-safe under concurrent writers: the database adds to the row
another transaction has just written (after that one commits) instead of either
transaction losing an increment, and a first row two writers insert at once meets the
unique constraint and becomes an addition. Rows go in sorted by key, so two
transactions touching the same rows lock them in the same order and cannot deadlock
each other. The fence is ``tests/core/test_tallies_parallel.py`` (threads on
PostgreSQL) and the recount tests of each app's tallies.

A row that falls to zero is kept (a later write moves it again; a results page skips
zeros).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from django.db import connection, models

Deltas = Mapping[tuple[Any, ...], int]


def diff(before: Mapping[Any, int], after: Mapping[Any, int]) -> Counter[Any]:
    """What to add so that a tally holding ``before`` holds ``after`` (zeros left out)."""
    out: Counter[Any] = Counter()
    for key in set(before) | set(after):
        change = after.get(key, 0) - before.get(key, 0)
        if change:
            out[key] = change
    return out


def add_counts(model: type[models.Model], key_fields: Sequence[str], deltas: Deltas, *, count: str = "count") -> None:
    """Add each delta to the row of ``model`` whose ``key_fields`` hold the key (made if missing).

    ``key_fields`` are the columns of the model's unique constraint, in that order; a
    key of ``deltas`` holds their values (a foreign key by its id). Zero deltas write nothing.
    """
    rows = sorted(((key, n) for key, n in deltas.items() if n), key=lambda row: _sortable(row[0]))
    if not rows:
        return
    ops = connection.ops
    columns = [_column(model, name) for name in [*key_fields, count]]
    table = ops.quote_name(model._meta.db_table)
    count_column = columns[-1]
    names = ", ".join(columns)
    one_row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    conflict = ", ".join(columns[:-1])
    sql = (
        f"INSERT INTO {table} ({names}) VALUES {', '.join([one_row] * len(rows))} "  # noqa: S608 (our own names)
        f"ON CONFLICT ({conflict}) DO UPDATE SET {count_column} = {table}.{count_column} + excluded.{count_column}"
    )
    params: list[Any] = []
    for key, n in rows:
        params.extend(key)
        params.append(n)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _sortable(key: tuple[Hashable, ...]) -> tuple[str, ...]:
    return tuple(f"{type(part).__name__}:{part}" for part in key)


def _column(model: type[models.Model], name: str) -> str:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.column:
        raise TypeError(f"{name} is not a column of {model.__name__}")
    return connection.ops.quote_name(field.column)
