"""Task rows written in the same statement as the rows they are about.

``task.enqueue()`` with django-tasks-db's backend is an ORM ``create`` of a
``DBTaskResult``: its own statement and, outside a transaction, its own commit, after
the row the task is about was committed. A hot path that writes its rows in one
statement (``openletters.services`` for a first endorsement) can write the task's row in
that statement too: one commit, and the task can never be lost between the two.

``unsaved_task_row`` builds the row as the backend's ``enqueue`` would (the same id
function, priority, path, queue, backend and "run after"); the caller inserts it with
``core.models.insert_parts`` and then calls ``enqueued`` with the task's arguments, which
sends the backend's ``task_enqueued`` signal as ``enqueue`` does.

This leans on the library's private parts (``_get_id``, the row's columns), so
pyproject.toml bounds its version, and ``tests/core/test_task_rows_contract.py``
compares a hand-built row with ``enqueue()``'s column by column and has a real worker
run one: raise the bound only when those tests pass on the new version.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Expression
from django.tasks import Task
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.compat import normalize_json, task_enqueued
from django_tasks_db.models import DBTaskResult, get_date_max


def unsaved_task_row(task: Task[Any, Any]) -> DBTaskResult[Any, Any] | None:
    """The row enqueueing ``task`` would insert, without its arguments (``args_kwargs``),
    or None when the task's backend does not keep rows in the database (then enqueue)."""
    backend = task.get_backend()
    if not isinstance(backend, DatabaseBackend):
        return None
    backend.validate_task(task)
    task_id = backend._get_id()  # the backend's own id function (a UUID unless configured)
    if isinstance(task_id, Expression):  # computed by the database: leave it to enqueue()
        return None
    return DBTaskResult(
        id=task_id,
        priority=task.priority,
        task_path=task.module_path,
        queue_name=task.queue_name,
        run_after=task.run_after or get_date_max(),  # what the backend's pre_save handler sets
        backend_name=backend.alias,
    )


def enqueued(row: DBTaskResult[Any, Any], *args: Any, **kwargs: Any) -> None:
    """After the row is written with these arguments: what ``enqueue`` does after its insert."""
    row.args_kwargs = normalize_json({"args": args, "kwargs": kwargs})
    row._state.adding = False
    task_enqueued.send(type(row.task.get_backend()), task_result=row.task_result)
