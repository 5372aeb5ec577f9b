"""A PostgreSQL statement sent without waiting for its answer, read later.

The email engine marks each accepted message sent before the next one goes. Waiting for
that statement's answer left the worker idle while PostgreSQL wrote the row; with
``send()`` the worker builds the next message meanwhile, and ``PendingStatement.wait()``
reads the answer before that message leaves (and before anything else uses the
connection: libpq reads answers in order, so another query in between would read this
one's).

This uses libpq's asynchronous calls on the psycopg connection under Django's
(``Connection.pgconn``, which psycopg documents for what it does not wrap itself).
Outside a transaction each statement commits on its own, as Django's autocommit does;
inside one, it is part of it.

With ``UNDERSIGNED_DB_PREPARED_STATEMENTS`` on (Django's ``server_side_binding``), the
statement is prepared once per connection under its own name, so PostgreSQL parses and
plans it once. psycopg clears every prepared statement of a connection on some commands
(a ``ROLLBACK``, for one); a statement found missing outside a transaction is prepared
again and sent again, which is safe because a statement that does not exist never ran.
"""

from __future__ import annotations

import select
import time
import weakref
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg
import psycopg.errors
from django.db import connection
from psycopg import pq

# psycopg connections (the ones under Django's) that have each named statement prepared.
_prepared: weakref.WeakKeyDictionary[Any, set[bytes]] = weakref.WeakKeyDictionary()
_NO_SUCH_STATEMENT = b"26000"  # invalid_sql_statement_name


def text_parameter(value: object) -> bytes | None:
    """A value in PostgreSQL's text format; the statement's casts or columns give its type."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat().encode()
    if isinstance(value, bool):
        return b"t" if value else b"f"
    return str(value).encode()


class PendingStatement:
    """A statement on its way to PostgreSQL; ``wait()`` reads its answer, once."""

    def __init__(self, name: bytes, sql: bytes, params: Sequence[object]) -> None:
        self.name = name
        self.sql = sql
        self.params = [text_parameter(value) for value in params]
        self.started = time.monotonic()
        self.done = False
        connection.ensure_connection()
        self.raw: Any = connection.connection
        self.prepare = bool(connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"))
        with connection.wrap_database_errors:
            self._send()

    def _send(self) -> None:
        pgconn = self.raw.pgconn
        if not self.prepare:
            pgconn.send_query_params(self.sql, self.params)
        else:
            names = _prepared.setdefault(self.raw, set())
            if self.name not in names:
                pgconn.send_prepare(self.name, self.sql)
                _flush(pgconn)
                _raise_for(_results(pgconn))
                names.add(self.name)
            pgconn.send_query_prepared(self.name, self.params)
        _flush(pgconn)

    def wait(self) -> None:
        """Read the answer: once this returns, the statement has run (and committed, outside a
        transaction); a failure raises Django's ``DatabaseError``."""
        if self.done:
            return
        self.done = True
        with connection.wrap_database_errors:
            error = _results(self.raw.pgconn)
            missing = error is not None and error.error_field(pq.DiagnosticField.SQLSTATE) == _NO_SUCH_STATEMENT
            # Sent again only outside a transaction: inside one, the error has aborted it.
            if missing and self.prepare and self.raw.pgconn.transaction_status == pq.TransactionStatus.IDLE:
                _prepared.pop(self.raw, None)  # psycopg deallocated them all
                self._send()
                error = _results(self.raw.pgconn)
            _raise_for(error)
        if connection.queries_logged:  # as Django's debug cursor records a query
            connection.queries_log.append({"sql": self.sql.decode(), "time": f"{time.monotonic() - self.started:.3f}"})


def send(name: str, sql: bytes, params: Sequence[object]) -> PendingStatement:
    """Send ``sql`` (``$1``, ``$2``… placeholders) with ``params`` on Django's connection; don't wait."""
    return PendingStatement(name.encode(), sql, params)


def _flush(pgconn: Any) -> None:
    while pgconn.flush():  # 1: the socket took only part of it
        select.select([], [pgconn.socket], [])


def _results(pgconn: Any) -> Any:
    """Read every result of the last statement sent; return the first that failed, if any."""
    failed = None
    while True:
        while pgconn.is_busy():
            select.select([pgconn.socket], [], [])
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:
            return failed
        if result.status not in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK) and failed is None:
            failed = result


def _raise_for(result: Any) -> None:
    """Raise the psycopg error a failed result stands for (IntegrityError for 23505, …)."""
    if result is None:
        return
    message = result.error_message.decode(errors="replace").strip() or "the database connection failed"
    sqlstate = result.error_field(pq.DiagnosticField.SQLSTATE)
    try:
        error = psycopg.errors.lookup(sqlstate.decode()) if sqlstate else psycopg.OperationalError
    except KeyError:
        error = psycopg.DatabaseError
    raise error(message)
