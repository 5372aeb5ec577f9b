"""The database cache's one-statement counters, on the test database (SQLite or PostgreSQL).

The suite runs on this cache by default; these tests give it a table of their own (so
they run in the Redis run of .ci/run too) and drive it directly and through the rate
limit of the abuse layer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext

from undersigned.core import abuse

pytestmark = pytest.mark.django_db

DB_CACHE = {"default": {"BACKEND": "undersigned.core.cache.DatabaseCache", "LOCATION": "test_counter_cache"}}


@pytest.fixture
def db_cache() -> Iterator[Any]:
    with override_settings(CACHES=DB_CACHE):
        call_command("createcachetable", verbosity=0)
        yield caches["default"]


def test_add_takes_a_missing_or_expired_key_only(db_cache: Any) -> None:
    assert db_cache.add("k", 1, timeout=60) is True
    assert db_cache.add("k", 5, timeout=60) is False
    assert db_cache.get("k") == 1
    assert db_cache.add("gone", {"a": 1}, timeout=1) is True
    time.sleep(1.1)
    assert db_cache.get("gone") is None
    assert db_cache.add("gone", ["again"], timeout=60) is True
    assert db_cache.get("gone") == ["again"]


def test_incr_adds_in_one_statement_and_keeps_django_semantics(db_cache: Any) -> None:
    db_cache.add("n", 1, timeout=60)
    with CaptureQueriesContext(connection) as captured:
        assert db_cache.incr("n") == 2
    assert len(captured) == 1
    assert db_cache.incr("n", 10) == 12
    assert db_cache.get_many(["n", "missing"]) == {"n": 12}
    with pytest.raises(ValueError, match="not found"):
        db_cache.incr("missing")
    db_cache.set("pickled", 7)  # set() stores as Django does; incr still works on it
    assert db_cache.incr("pickled") == 8
    assert db_cache.get("pickled") == 8
    db_cache.set("flag", True)
    assert db_cache.get("flag") is True  # a bool is not a counter


def test_count_in_window_counts_up_in_one_statement_and_restarts_once_expired(db_cache: Any) -> None:
    with CaptureQueriesContext(connection) as captured:
        counts = [db_cache.count_in_window("w", timeout=1) for _ in range(3)]
    assert counts == [1, 2, 3]
    assert len([q for q in captured.captured_queries if not q["sql"].startswith("DELETE")]) == 3
    assert db_cache.get("w") == 3
    time.sleep(1.1)
    assert db_cache.count_in_window("w", timeout=60) == 1  # a new window
    assert db_cache.count_in_window("w", timeout=60) == 2
    db_cache.set("pickled", {"not": "a counter"}, timeout=60)
    assert db_cache.count_in_window("pickled", timeout=60) == 1  # replaced, never misread


def test_a_rate_limit_costs_one_statement_and_still_limits(db_cache: Any) -> None:
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.7")
    for _ in range(3):
        with CaptureQueriesContext(connection) as captured:
            assert abuse.rate_limit(request, "compose", "3/m") == 0
        statements = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith("DELETE")]
        assert len(statements) == 1  # (and now and then a clean-up of expired rows)
        assert "COUNT(" not in statements[0].upper()
    assert abuse.rate_limit(request, "compose", "3/m") > 0
    other = RequestFactory().post("/", REMOTE_ADDR="192.0.2.8")
    assert abuse.rate_limit(other, "compose", "3/m") == 0


def test_a_chain_of_limits_counts_the_next_only_while_the_earlier_allow(db_cache: Any) -> None:
    chain = [("ip", 60, 2), ("email", 60, 1)]
    assert db_cache.count_chain(chain) == [1, 1]
    assert db_cache.count_chain(chain) == [2, 2]  # the address still allowed; the email over its limit
    assert db_cache.count_chain(chain) == [3, None]  # turned away by the address: the email not counted
    assert db_cache.get_many(["ip", "email"]) == {"ip": 3, "email": 2}
    with pytest.raises(ValueError, match="distinct"):
        db_cache.count_chain([("same", 60, 1), ("same", 60, 1)])


def test_two_limits_cost_one_statement_on_postgresql(db_cache: Any) -> None:
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.9")
    checks = [("endorse", "2/m", None), ("endorse-email", "1/m", "jane@example.org")]
    with CaptureQueriesContext(connection) as captured:
        assert abuse.rate_limits(request, *checks) == 0
    statements = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith("DELETE")]
    assert len(statements) == (1 if connection.vendor == "postgresql" else 2)
    assert abuse.rate_limits(request, *checks) > 0  # the email's limit
    other_email = [checks[0], ("endorse-email", "1/m", "john@example.org")]
    assert abuse.rate_limits(request, *other_email) > 0  # the address's limit (3 > 2) ...
    fresh = RequestFactory().post("/", REMOTE_ADDR="192.0.2.10")
    assert abuse.rate_limits(fresh, *other_email) == 0  # ... which left john's count untouched
