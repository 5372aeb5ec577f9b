"""Several related rows written in one PostgreSQL statement, for the hottest writes.

A new letter (supporter upsert, letter, audit row) and a first endorsement
(endorsement, audit row, the task that emails the confirmation) are each one
``WITH a AS (INSERT … RETURNING id), b AS (INSERT … SELECT …, a.id FROM a) … SELECT …``
statement: atomic by itself, so it needs no BEGIN and COMMIT and costs one round trip
instead of five (docs/performance.md). PostgreSQL runs every data-modifying ``WITH`` part
exactly once, whether or not the final ``SELECT`` reads it.

Each row is built from an unsaved model instance with the fields' own ``pre_save`` and
``get_db_prep_save`` (``core.models.insert_parts``), so it holds what ``save()`` would
write. What breaks if you rely on more: no ``save()`` runs, so no ``pre_save``/``post_save``
signal is sent and no overridden ``save()`` is called for these models (the test
``tests/core/test_invariants.py`` fails when a receiver is connected to one of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction

from .models import insert_parts


@dataclass(frozen=True)
class Insert:
    """One row of a chain, named ``name`` for the parts after it.

    ``fill`` names a field whose value comes from an earlier row instead of from
    ``obj``: ``fill_sql`` is its SQL over the row of ``source`` (a name given earlier),
    e.g. ``fill="supporter", fill_sql='s."id"', source="s"``. When ``source`` has no row
    (its insert did nothing ON CONFLICT), this part inserts nothing either.
    """

    name: str
    obj: models.Model
    fill: str = ""
    fill_sql: str = ""
    source: str = ""
    on_conflict: str = ""  # what follows ON CONFLICT, e.g. '("email") DO NOTHING'
    with_pk: bool = False  # the primary key is made in Python (a UUID), not by the database


def column(name: str, field: str = "id") -> str:
    """``name."field"``: a column of an earlier part, quoted for the database."""
    return f"{name}.{connection.ops.quote_name(field)}"


def insert_chain(parts: Sequence[Insert], select: str) -> tuple[str, list[Any]]:
    """The statement that inserts ``parts`` in order and then runs ``select`` over them."""
    q = connection.ops.quote_name
    ctes: list[str] = []
    params: list[Any] = []
    # Names in the SQL are quoted by the backend or given by our own code, never by a
    # person; every value travels as a parameter.
    for part in parts:
        pk = part.obj._meta.pk
        if pk is None:  # pragma: no cover (every model has one)
            raise TypeError(f"{part.obj._meta.label} has no primary key")
        table, columns, values = insert_parts(part.obj, skip=part.fill)
        if part.with_pk:
            columns = [q(str(pk.column)), *columns]
            values = [pk.get_db_prep_save(part.obj.pk, connection), *values]
        marks = ", ".join(["%s"] * len(values))
        if part.fill:
            filled = q(str(part.obj._meta.get_field(part.fill).column))  # type: ignore[union-attr]
            columns_sql = f"{', '.join(columns)}, {filled}"
            body = f"INSERT INTO {table} ({columns_sql}) SELECT {marks}, {part.fill_sql} FROM {part.source}"  # noqa: S608
        else:
            body = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
        if part.on_conflict:
            body += f" ON CONFLICT {part.on_conflict}"
        ctes.append(f"{part.name} AS ({body} RETURNING {q(str(pk.column))})")
        params += values
    return f"WITH {', '.join(ctes)} {select}", params


def run_chain(parts: Sequence[Insert], select: str) -> tuple[Any, ...] | None:
    """Run the chain; the first row of ``select``, or None when it has none.

    Inside a transaction it runs in a savepoint, so a unique constraint that refuses a
    part (IntegrityError, nothing written) leaves the outer transaction usable.
    """
    sql, params = insert_chain(parts, select)

    def run() -> tuple[Any, ...] | None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return tuple(row) if row is not None else None

    if connection.in_atomic_block:
        with transaction.atomic():
            return run()
    return run()
