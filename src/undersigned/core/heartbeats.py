"""Task workers' heartbeats: each worker's housekeeping loop says it is alive.

``undersigned worker`` calls ``record_heartbeat`` at every round of its housekeeping
loop (every minute by default); the readiness endpoint reads ``workers_alive`` so an
operator or a monitor sees when no worker is running. This module owns the table's
writes and reads: it is small, and core has no other services of this kind. A beat
writes no ActionLog row: it is no one's action, and one a minute per worker would drown
the log.
"""

from __future__ import annotations

import datetime
import os
import socket
from dataclasses import dataclass

from django.db.models import Max
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from .models import WorkerHeartbeat

# A worker that has not beaten for this long is gone for good: its row is removed.
FORGET_AFTER = datetime.timedelta(days=1)
_MARGIN = datetime.timedelta(seconds=10)


def this_worker() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def record_heartbeat(*, worker: str, started_at: datetime.datetime, interval: float) -> None:
    """This worker finished a loop now; expect the next within two intervals."""
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker=worker,
        defaults={
            "started_at": started_at,
            "last_loop_at": now,
            "expected_by": now + 2 * datetime.timedelta(seconds=interval) + _MARGIN,
        },
    )
    # Every restart is a new pid, so a row per restart: old rows go, by the index.
    WorkerHeartbeat.objects.filter(expected_by__lt=now - FORGET_AFTER).delete()


@dataclass(frozen=True)
class Heartbeats:
    alive: int  # workers whose next beat is not overdue
    last_loop_at: datetime.datetime | None  # the latest beat of any worker


def workers_alive() -> Heartbeats:
    now = timezone.now()
    alive = WorkerHeartbeat.objects.filter(expected_by__gte=now).count()
    last = WorkerHeartbeat.objects.aggregate(last=Max("last_loop_at"))["last"]
    return Heartbeats(alive=alive, last_loop_at=last)


QUEUE_COUNT_LIMIT = 10_000


def queued_tasks(limit: int = QUEUE_COUNT_LIMIT) -> int:
    """Tasks waiting for a worker, counted up to ``limit`` (the count stays cheap in a surge).

    Uses django-tasks-db's partial index on ready tasks.
    """
    ready = DBTaskResult.objects.filter(status=TaskResultStatus.READY).order_by().values("pk")[:limit]
    return DBTaskResult.objects.filter(pk__in=ready).count()
