"""A PostgreSQL statement committed without waiting for its answer, read later.

The email engine marks each accepted message sent before the next one goes. Waiting for
that statement's answer left the worker idle while PostgreSQL wrote and committed the
row; with ``send()`` the worker builds the next message meanwhile, and
``PipelinedStatement.wait()`` reads the answer before that message leaves.

This is psycopg's pipeline mode (``Connection.pipeline()``), on the psycopg connection
under Django's. Inside a pipeline psycopg sends each statement at once and reads its
answer later; but the implicit transaction a pipeline runs in only ends at its next
``Sync``, and ``Pipeline.sync()`` waits for the answers. So, outside a transaction, the
statement travels between ``BEGIN`` and ``COMMIT`` of its own: PostgreSQL runs each
command as it arrives, so the commit happens while the worker does something else, and
leaving the pipeline (in ``wait()``) sends the ``Sync`` and reads the three answers.
Inside a transaction the statement is part of it, as any other.

While a statement is pending, the connection is in pipeline mode: nothing else may use
it until ``wait()`` has returned (psycopg would keep the order of the answers, but a
Django query run meanwhile would not commit until the pipeline ends).

With ``UNDERSIGNED_DB_PREPARED_STATEMENTS`` on (Django's ``server_side_binding``), the
statement is prepared on its first use on a connection (psycopg's own prepared
statements, which it prepares again after ``DEALLOCATE ALL`` or a rollback that drops
them); off, it is sent unprepared, as a pooler without prepared statements needs.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

import psycopg
from django.db import connection
from psycopg import pq


class PipelinedStatement:
    """A statement on its way to PostgreSQL; ``wait()`` reads its answer, once."""

    def __init__(self, sql: str, params: Sequence[object]) -> None:
        self.sql = sql
        self.started = time.monotonic()
        self.done = False
        self._pipeline = ExitStack()
        connection.ensure_connection()
        raw: psycopg.Connection[Any] = connection.connection
        prepare = bool(connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"))
        own_transaction = raw.info.transaction_status == pq.TransactionStatus.IDLE
        with connection.wrap_database_errors:
            self._pipeline.enter_context(raw.pipeline())
            try:
                # A cursor of psycopg's own (server-side parameters), whatever cursor class
                # Django's connection uses: the statement's casts give the parameters' types.
                cursor = psycopg.Cursor(raw)
                if own_transaction:
                    cursor.execute("BEGIN", prepare=False)
                cursor.execute(sql, params, prepare=prepare)
                if own_transaction:
                    cursor.execute("COMMIT", prepare=False)
            except BaseException as exc:
                # Leave pipeline mode (psycopg logs, rather than raises, what that finds).
                self.done = True
                self._pipeline.__exit__(type(exc), exc, exc.__traceback__)
                raise

    def wait(self) -> None:
        """Read the answer: once this returns, the statement has run (and committed, outside a
        transaction); a failure raises Django's ``DatabaseError``."""
        if self.done:
            return
        self.done = True
        with connection.wrap_database_errors:
            self._pipeline.close()  # Sync, read every answer, leave pipeline mode
        if connection.queries_logged:  # as Django's debug cursor records a query
            connection.queries_log.append({"sql": self.sql, "time": f"{time.monotonic() - self.started:.3f}"})


def send(sql: str, params: Sequence[object]) -> PipelinedStatement:
    """Send ``sql`` (``%s`` placeholders) with ``params`` on Django's connection; don't wait."""
    return PipelinedStatement(sql, params)
