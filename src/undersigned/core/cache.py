"""The database cache, with counters that cost one statement.

Rate limits (``core.abuse.rate_limit``) call ``cache.add`` and ``cache.incr`` on every
form that writes. Django's database cache makes those about eleven statements: each
write first counts the whole table (to decide whether to cull it), then reads, then
writes in a transaction, and ``incr`` is a read followed by a full write. On the letter
form that was a large share of a letter's CPU (docs/performance.md), growing with the
table.

Here ``add`` is one upsert that takes the key only if it is missing or expired, and an
integer added this way is stored as text (``#17``) so that ``incr`` is one ``UPDATE``
that adds in SQL and returns the new value. Everything else (``set``, ``get`` of other
values, ``delete``, ``touch``) behaves as Django's. Expired rows are deleted now and
then by ``add`` (about one call in ``CULL_EVERY``) rather than counted on every write;
``MAX_ENTRIES`` still applies to ``set`` as in Django.
"""

from __future__ import annotations

import base64
import pickle
import random
from datetime import UTC, datetime
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, router
from django.utils import timezone

CULL_EVERY = 200
_INT = "#"  # not in base64's alphabet, so never the start of a pickled value


def _encode_int(value: int) -> str:
    return f"{_INT}{value}"


class DatabaseCache(DjangoDatabaseCache):
    # Identifiers in the SQL below are the table's and columns' names quoted by the
    # database backend; every value is a parameter (hence the S608 notes).

    def __init__(self, table: str, params: dict[str, Any]) -> None:
        super().__init__(table, params)
        self.table_name = table

    def _expiry(self, timeout: Any) -> datetime:
        seconds = self.get_backend_timeout(timeout)
        if seconds is None:
            return datetime.max.replace(tzinfo=UTC)
        return datetime.fromtimestamp(seconds, tz=UTC).replace(microsecond=0)

    def _encode(self, value: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            return _encode_int(value)
        return base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")

    def _decode(self, raw: str) -> Any:
        if raw.startswith(_INT):
            return int(raw[1:])
        return pickle.loads(base64.b64decode(raw.encode(), validate=True))  # noqa: S301 (our own cache rows)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        connection = connections[router.db_for_write(self.cache_model_class)]
        q = connection.ops.quote_name
        table = q(self.table_name)
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        expires = connection.ops.adapt_datetimefield_value(self._expiry(timeout))
        with connection.cursor() as cursor:
            self._cull_now_and_then(cursor, connection)
            cursor.execute(
                f"INSERT INTO {table} ({q('cache_key')}, {q('value')}, {q('expires')}) VALUES (%s, %s, %s) "  # noqa: S608
                f"ON CONFLICT ({q('cache_key')}) DO UPDATE SET {q('value')} = excluded.{q('value')}, "
                f"{q('expires')} = excluded.{q('expires')} WHERE {table}.{q('expires')} < %s "
                f"RETURNING {q('cache_key')}",
                [key, self._encode(value), expires, now],
            )
            return cursor.fetchone() is not None

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        made = self.make_and_validate_key(key, version=version)
        connection = connections[router.db_for_write(self.cache_model_class)]
        q = connection.ops.quote_name
        table, value = q(self.table_name), q("value")
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {value} = %s || CAST(CAST(SUBSTR({value}, 2) AS BIGINT) + %s AS TEXT) "  # noqa: S608
                f"WHERE {q('cache_key')} = %s AND {q('expires')} >= %s AND {value} LIKE %s "
                f"RETURNING {value}",
                [_INT, delta, made, now, _INT + "%"],
            )
            row = cursor.fetchone()
        if row is None:  # missing, expired, or not one of our counters: Django's way
            return int(super().incr(key, delta, version))
        return int(self._decode(connection.ops.process_clob(row[0])))

    def _counter_upsert(self, connection: Any) -> tuple[str, str, list[Any]]:
        """The start of a counter's ``INSERT`` (table and columns, before its values), and
        the ``ON CONFLICT`` clause that adds one to a live counter or starts an expired or
        foreign value again at 1, with that clause's parameters. Shared by
        ``count_in_window`` and ``count_chain``."""
        q = connection.ops.quote_name
        table, value, expires = q(self.table_name), q("value"), q("expires")
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        live = f"{table}.{expires} >= %s AND {table}.{value} LIKE %s"
        insert = f"INSERT INTO {table} ({q('cache_key')}, {value}, {expires}) "
        upsert = (
            f"ON CONFLICT ({q('cache_key')}) DO UPDATE SET "
            f"{value} = CASE WHEN {live} "
            f"THEN %s || CAST(CAST(SUBSTR({table}.{value}, 2) AS BIGINT) + 1 AS TEXT) ELSE excluded.{value} END, "
            f"{expires} = CASE WHEN {live} THEN {table}.{expires} ELSE excluded.{expires} END "
            f"RETURNING {value}"
        )
        return insert, upsert, [now, _INT + "%", _INT, now, _INT + "%"]

    def _cull_now_and_then(self, cursor: Any, connection: Any) -> None:
        if random.randrange(CULL_EVERY) == 0:  # noqa: S311 (not security: spreads the clean-up)
            q = connection.ops.quote_name
            now = connection.ops.adapt_datetimefield_value(timezone.now())
            cursor.execute(f"DELETE FROM {q(self.table_name)} WHERE {q('expires')} < %s", [now])  # noqa: S608

    def count_in_window(self, key: Any, timeout: int) -> int:
        """Add one to the counter at ``key`` (a new or expired one starts at 1, kept for
        ``timeout`` seconds) and return it: ``add`` and ``incr`` in one statement, one
        commit. ``core.abuse.rate_limit`` uses it when the cache has it."""
        made = self.make_and_validate_key(key)
        connection = connections[router.db_for_write(self.cache_model_class)]
        until = connection.ops.adapt_datetimefield_value(self._expiry(timeout))
        insert, upsert, upsert_params = self._counter_upsert(connection)
        with connection.cursor() as cursor:
            self._cull_now_and_then(cursor, connection)
            cursor.execute(f"{insert}VALUES (%s, %s, %s) {upsert}", [made, _encode_int(1), until, *upsert_params])
            row = cursor.fetchone()
        return int(self._decode(connection.ops.process_clob(row[0])))

    def count_chain(self, counters: list[tuple[Any, int, int]]) -> list[int | None]:
        """Count one in each of ``counters`` (key, timeout, limit) in turn, as
        ``count_in_window`` does, but only while every earlier count is within its limit:
        the first over its limit stops the chain, and the later ones are not counted
        (``None``). A request turned away by the first limit then uses up nothing of
        the next (say, per address, then per email).

        On PostgreSQL the whole chain is one statement, each counter an upsert in a
        ``WITH`` that reads the one before it; elsewhere, one statement per counter.
        """
        made = [self.make_and_validate_key(key) for key, _, _ in counters]
        if len(set(made)) != len(made):
            raise ValueError("count_chain needs distinct keys")
        connection = connections[router.db_for_write(self.cache_model_class)]
        if connection.vendor != "postgresql" or len(counters) < 2:
            counts: list[int | None] = []
            for i, (key, timeout, _) in enumerate(counters):
                stopped = i > 0 and (counts[i - 1] is None or counts[i - 1] > counters[i - 1][2])  # type: ignore[operator]
                counts.append(None if stopped else self.count_in_window(key, timeout))
            return counts
        insert, upsert, upsert_params = self._counter_upsert(connection)
        value = connection.ops.quote_name("value")
        parts: list[str] = []
        params: list[Any] = []
        for i, ((_, timeout, _), key) in enumerate(zip(counters, made, strict=True)):
            until = connection.ops.adapt_datetimefield_value(self._expiry(timeout))
            if i == 0:
                parts.append(f"c0 AS ({insert}VALUES (%s, %s, %s) {upsert})")
                params += [key, _encode_int(1), until, *upsert_params]
            else:
                # Counted only when the counter before it is within its limit.
                parts.append(
                    f"c{i} AS ({insert}SELECT %s, %s, %s FROM c{i - 1} "  # noqa: S608 (quoted names, values as parameters)
                    f"WHERE CAST(SUBSTR(c{i - 1}.{value}, 2) AS BIGINT) <= %s {upsert})"
                )
                params += [key, _encode_int(1), until, counters[i - 1][2], *upsert_params]
        select = ", ".join(f"(SELECT {value} FROM c{i})" for i in range(len(counters)))  # noqa: S608
        with connection.cursor() as cursor:
            self._cull_now_and_then(cursor, connection)
            cursor.execute(f"WITH {', '.join(parts)} SELECT {select}", params)
            row = cursor.fetchone()
        return [None if raw is None else int(self._decode(raw)) for raw in row]

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        if not keys:
            return {}
        made = {self.make_and_validate_key(key, version=version): key for key in keys}
        connection = connections[router.db_for_read(self.cache_model_class)]
        q = connection.ops.quote_name
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {q('cache_key')}, {q('value')} FROM {q(self.table_name)} "  # noqa: S608
                f"WHERE {q('cache_key')} IN ({', '.join(['%s'] * len(made))}) AND {q('expires')} >= %s",
                [*made, now],
            )
            rows = cursor.fetchall()
        return {made[key]: self._decode(connection.ops.process_clob(raw)) for key, raw in rows}
