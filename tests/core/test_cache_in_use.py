"""The cache a test run uses is the one its environment names, and requests use it.

The suite runs on the shipped default (``db://``, a table in the test database); .ci/run
runs the abuse, rate-limit and kept-page tests again with ``UNDERSIGNED_CACHE_URL`` set
to a Redis database. These tests make sure each run really is on the cache it claims:
a rate-limit counter written by a request is found in that cache's own storage.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.core.cache import caches
from django.db import connection
from django.test import Client

from tests.openletters.conftest import endorse, make_open_letter

pytestmark = pytest.mark.django_db

URL = os.environ["UNDERSIGNED_CACHE_URL"]  # the test plugin sets db:// unless the run names another
BACKENDS = {
    "db": "undersigned.core.cache.DatabaseCache",
    "redis": "django.core.cache.backends.redis.RedisCache",
    "rediss": "django.core.cache.backends.redis.RedisCache",
    "locmem": "django.core.cache.backends.locmem.LocMemCache",
}


def _stored_keys() -> list[str]:
    """The keys in the cache's own storage, read without the cache backend."""
    scheme = URL.partition("://")[0]
    if scheme == "db":
        q = connection.ops.quote_name
        with connection.cursor() as cursor:
            table = getattr(caches["default"], "_table")  # noqa: B009 (Django's attribute, not in the stubs)
            cursor.execute(f"SELECT {q('cache_key')} FROM {q(table)}")  # noqa: S608 (quoted name)
            return [key for (key,) in cursor.fetchall()]
    if scheme in ("redis", "rediss"):
        client = redis.Redis.from_url(URL)
        return [key.decode() for key in client.scan_iter(match="*rl:*")]
    return list(getattr(caches["default"], "_cache"))  # noqa: B009 (locmem: a dict in this process)


def test_the_cache_in_use_is_the_one_the_environment_names() -> None:
    backend = type(caches["default"])
    assert f"{backend.__module__}.{backend.__qualname__}" == BACKENDS[URL.partition("://")[0]]


def test_a_requests_rate_limit_counter_is_kept_in_that_cache(client: Client, organisation: Any) -> None:
    assert [key for key in _stored_keys() if "rl:" in key] == []
    response = endorse(client, make_open_letter(organisation))
    assert response.status_code == 302
    (key,) = [key for key in _stored_keys() if "rl:endorse:" in key]
    # Django's key function makes ":1:<key>"; the counter the request wrote is 1.
    assert caches["default"].get(key.removeprefix(":1:")) == 1


@pytest.fixture
def redis_cache(settings: Any) -> Iterator[redis.Redis]:
    """The default cache on Redis, as ``UNDERSIGNED_CACHE_URL=redis://…`` sets it, under a
    key prefix of this test's own (so it shares a Redis database with nothing)."""
    url = os.environ.get("UNDERSIGNED_TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
    client = redis.Redis.from_url(url)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {url} (set UNDERSIGNED_TEST_REDIS_URL)")
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {"BACKEND": BACKENDS["redis"], "LOCATION": url, "KEY_PREFIX": prefix},
    }
    yield client
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


def test_on_redis_a_requests_counters_are_kept_in_redis(
    client: Client, organisation: Any, redis_cache: redis.Redis
) -> None:
    prefix = caches["default"].key_prefix
    response = endorse(client, make_open_letter(organisation))
    assert response.status_code == 302
    keys = list(redis_cache.scan_iter(match=f"{prefix}:*"))
    # "<prefix>:1:rl:<scope>:<who>:<window>": the per-address and the per-email counter, each at 1.
    scopes = sorted(key.decode().removeprefix(f"{prefix}:1:").split(":")[1] for key in keys)
    assert scopes == ["endorse", "endorse-email"]
    assert redis_cache.mget(keys) == [b"1", b"1"]  # Django stores integers as plain numbers in Redis
