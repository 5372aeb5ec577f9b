"""The contract between ``core/task_rows.py`` and django-tasks-db.

``core/task_rows.py`` writes the library's task rows without its ``enqueue()`` (so that
a first endorsement and its confirmation task are one statement on PostgreSQL). That is
safe only while a hand-built row is the row ``enqueue()`` would write and the library's
worker runs it. These tests fail when a new version of the library changes the row's
shape (a column added, removed or filled differently), which is why pyproject.toml
bounds its version: raise the bound only with these tests passing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django_tasks_db.models import DBTaskResult

from tests.openletters.conftest import endorse, make_open_letter
from undersigned.core.models import insert_parts
from undersigned.core.task_rows import enqueued, unsaved_task_row
from undersigned.openletters import tasks
from undersigned.openletters.models import Endorsement

# The table's columns as this version of the library creates them: a new or renamed
# column is a change of the row's shape, to be read before the bound is raised.
COLUMNS = [
    "id",
    "status",
    "enqueued_at",
    "started_at",
    "finished_at",
    "args_kwargs",
    "priority",
    "task_path",
    "worker_ids",
    "queue_name",
    "backend_name",
    "run_after",
    "return_value",
    "exception_class_path",
    "traceback",
]
# Differ between any two rows by design; checked for their type instead.
PER_ROW = {"id", "enqueued_at"}


def _raw_row(pk: Any) -> dict[str, Any]:
    """The row as the database holds it (no model field in between)."""
    q = connection.ops.quote_name
    table = DBTaskResult._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT * FROM {q(table)} WHERE {q('id')} = %s",  # noqa: S608 (quoted name)
            [DBTaskResult._meta.pk.get_db_prep_value(pk, connection)],
        )
        names = [column[0] for column in cursor.description]
        (values,) = cursor.fetchall()
    return dict(zip(names, values, strict=True))


def _insert_by_hand(task: Any, *args: Any) -> Any:
    """Write a task row as ``openletters.services`` does inside its statement: the columns
    from ``insert_parts``, the arguments as JSON, then ``enqueued`` after the write."""
    row = unsaved_task_row(task)
    assert row is not None
    q = connection.ops.quote_name
    table, columns, values = insert_parts(row, skip="args_kwargs")
    args_kwargs = DBTaskResult._meta.get_field("args_kwargs")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({q('id')}, {', '.join(columns)}, {q('args_kwargs')}) "  # noqa: S608 (quoted names)
            f"VALUES ({', '.join(['%s'] * (len(values) + 2))})",
            [
                DBTaskResult._meta.pk.get_db_prep_save(row.pk, connection),
                *values,
                args_kwargs.get_db_prep_save({"args": list(args), "kwargs": {}}, connection),
            ],
        )
    enqueued(row, *args)
    return row.pk


def _assert_same_shape(by_hand: Any, by_library: Any) -> None:
    mine, theirs = _raw_row(by_hand), _raw_row(by_library)
    assert sorted(mine) == sorted(COLUMNS)
    assert sorted(theirs) == sorted(COLUMNS)
    for column in COLUMNS:
        if column in PER_ROW:
            assert type(mine[column]) is type(theirs[column]), column
            assert mine[column] is not None, column
        else:
            assert mine[column] == theirs[column], column


@pytest.mark.django_db
def test_the_tables_columns_are_the_ones_the_hand_built_row_fills() -> None:
    with connection.cursor() as cursor:
        described = connection.introspection.get_table_description(cursor, DBTaskResult._meta.db_table)
    # The table's order is its migrations' (added columns come last); the model's is COLUMNS.
    assert sorted(column.name for column in described) == sorted(COLUMNS)
    assert [field.column for field in DBTaskResult._meta.concrete_fields] == COLUMNS


@pytest.mark.django_db
def test_a_row_built_by_hand_is_the_row_enqueue_writes_column_by_column() -> None:
    by_hand = _insert_by_hand(tasks.send_confirmation, 42)
    by_library = tasks.send_confirmation.enqueue(42).id
    assert by_hand != by_library
    _assert_same_shape(by_hand, by_library)
    row = DBTaskResult.objects.get(pk=by_hand)
    assert row.args_kwargs == {"args": [42], "kwargs": {}}
    assert row.task == tasks.send_confirmation
    assert row.status == "READY"
    assert list(DBTaskResult.objects.ready().order_by("enqueued_at").values_list("pk", flat=True)) == [
        uuid.UUID(str(by_hand)),
        uuid.UUID(str(by_library)),
    ]


def test_a_first_endorsement_writes_the_row_enqueue_would_and_a_real_worker_runs_it(
    client: Client, organisation: Any, smtp_sink: Any, run_worker: Any
) -> None:
    """On PostgreSQL the row comes from the endorsement's own statement; on SQLite from
    the ORM's path (``enqueue``); either way the library's worker sends the email."""
    response = endorse(client, make_open_letter(organisation), email="aoife@example.ie")
    assert response.status_code == 302, response.content.decode()[:2000]
    endorsement = Endorsement.objects.get(email="aoife@example.ie")
    (written,) = DBTaskResult.objects.all()
    assert written.args_kwargs == {"args": [endorsement.pk], "kwargs": {}}
    by_library = tasks.send_confirmation.enqueue(endorsement.pk).id
    _assert_same_shape(written.pk, by_library)
    DBTaskResult.objects.filter(pk=by_library).delete()  # one email, from the hand-built row

    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)

    written.refresh_from_db()
    assert written.status == "SUCCESSFUL"
    assert written.return_value is True
    assert isinstance(written.finished_at, datetime)
    (message,) = smtp_sink.parsed()
    assert message["To"] == "Siobhán O'Brien <aoife@example.ie>"
