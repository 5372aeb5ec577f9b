"""Health endpoints for load balancers, process supervisors and operators.

``/health/live``  the process answers (no database, no cache): restart it if not.
``/health/ready`` 200 when the database and the cache answer and every migration is
                  applied, else 503: take the server out of the load balancer, not
                  down. Also the task workers' heartbeat for operators: workers that
                  looped lately, when the last loop was, tasks waiting, and since when
                  the longest-waiting due email has been due.

They are answered by a middleware near the top of ``MIDDLEWARE``, before sessions,
CSRF, language and host checks: a load balancer probing a server by its own address
(``Host: 10.0.0.5:8000``) is not in ``ALLOWED_HOSTS``, needs no cookie, and must never
be rate-limited or redirected into failure. A probe costs a handful of small indexed
queries. Nothing here is personal: counts and times only. ``Cache-Control: no-store``
so no cache in between answers for a dead server.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse

from undersigned.core import heartbeats
from undersigned.delivery.queries import oldest_due_email

logger = logging.getLogger(__name__)

LIVE = "/health/live"
READY = "/health/ready"


@functools.cache
def _latest_migrations() -> tuple[tuple[str, str], ...]:
    """The last migration of each app, from the files on disk (read once per process)."""
    return tuple(sorted(MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes()))


def _migrations_applied() -> bool:
    # Migrations are applied in dependency order, so when each app's last one is
    # recorded the ones before it are too: one query for a few rows.
    latest = _latest_migrations()
    wanted = Q()
    for app, name in latest:
        wanted |= Q(app=app, name=name)
    return MigrationRecorder.Migration.objects.filter(wanted).count() == len(latest)


def _check(name: str, probe: Callable[[], Any]) -> bool:
    try:
        probe()
    except Exception:  # any failure of a dependency means "not ready", never a 500
        logger.warning("readiness: %s is not reachable", name, exc_info=True)
        return False
    return True


def _ping_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def readiness() -> tuple[bool, dict[str, Any]]:
    database = _check("the database", _ping_database)
    cache_ok = _check("the cache", lambda: cache.get("health:probe"))
    body: dict[str, Any] = {
        "database": "ok" if database else "unreachable",
        "cache": "ok" if cache_ok else "unreachable",
    }
    migrated = False
    workers: dict[str, Any] | None = None
    if database:
        try:
            migrated = _migrations_applied()
            beats = heartbeats.workers_alive()
            workers = {
                "alive": beats.alive,
                "last_loop": _when(beats.last_loop_at),
                "queued_tasks": heartbeats.queued_tasks(),
                "queued_tasks_counted_up_to": heartbeats.QUEUE_COUNT_LIMIT,
                "oldest_due_email": _when(oldest_due_email()),
            }
        except DatabaseError:  # tables missing before the first migrate
            logger.warning("readiness: the database is not migrated", exc_info=True)
            migrated = False
    body["migrations"] = "applied" if migrated else "pending"
    if workers is not None:
        body["workers"] = workers
    ready = database and cache_ok and migrated
    return ready, {"status": "ready" if ready else "not ready", **body}


def _answer(request: HttpRequest, body: dict[str, Any], status: int) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        response = HttpResponse(status=405)
        response["Allow"] = "GET, HEAD"
    else:
        response = JsonResponse(body, status=status)
        if request.method == "HEAD":
            response.content = b""
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    """Answers the health paths itself; every other request goes on down the stack."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info.rstrip("/")
        if path == LIVE:
            return _answer(request, {"status": "alive"}, 200)
        if path == READY:
            ready, body = readiness()
            return _answer(request, body, 200 if ready else 503)
        return self.get_response(request)
