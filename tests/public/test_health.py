"""Health endpoints: liveness, readiness and the task workers' heartbeat."""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from tests.conftest import database_url
from tests.factories import LetterFactory
from undersigned.campaigns.enums import Channel
from undersigned.core import heartbeats
from undersigned.core.models import WorkerHeartbeat
from undersigned.delivery.models import Delivery
from undersigned.delivery.queries import oldest_due_email
from undersigned.delivery.services import record_delivery
from undersigned.public import health

UNREACHABLE_REDIS = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
}


def test_liveness_answers_any_host_without_cookies_or_database() -> None:
    client = Client(HTTP_HOST="10.0.0.5:8000")  # a load balancer probing by address
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}
    assert response["Cache-Control"] == "no-store"
    assert response.cookies == {}
    assert client.get("/health/live/").status_code == 200
    head = client.head("/health/live")
    assert (head.status_code, head.content) == (200, b"")
    assert client.post("/health/live").status_code == 405


@pytest.mark.django_db
def test_readiness_reports_the_database_cache_migrations_and_workers() -> None:
    last = timezone.now() - datetime.timedelta(seconds=30)
    WorkerHeartbeat.objects.create(
        worker="web-1:4242", started_at=last, last_loop_at=last, expected_by=last + datetime.timedelta(seconds=130)
    )
    response = Client(HTTP_HOST="10.0.0.5:8000").get("/health/ready")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "status": "ready",
        "database": "ok",
        "cache": "ok",
        "migrations": "applied",
        "workers": {
            "alive": 1,
            "last_loop": last.isoformat(),
            "queued_tasks": 0,
            "queued_tasks_counted_up_to": 10_000,
            "oldest_due_email": None,
        },
    }


@pytest.mark.django_db
def test_readiness_is_503_when_the_cache_is_unreachable() -> None:
    with override_settings(CACHES=UNREACHABLE_REDIS):
        response = Client().get("/health/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "not ready"
    assert (response.json()["database"], response.json()["cache"]) == ("ok", "unreachable")


@pytest.mark.django_db
def test_readiness_is_503_while_a_migration_is_pending(monkeypatch: pytest.MonkeyPatch) -> None:
    # A newer release's code on a database not yet migrated: its last migration is unknown.
    latest = health._latest_migrations()
    monkeypatch.setattr(health, "_latest_migrations", lambda: (*latest, ("core", "9999_from_the_next_release")))
    response = Client().get("/health/ready")
    assert response.status_code == 503
    assert (response.json()["status"], response.json()["migrations"]) == ("not ready", "pending")


@pytest.mark.django_db
def test_the_oldest_due_email_is_the_longest_waiting_one_a_worker_should_send(campaign: Any) -> None:
    recipient = campaign.recipients.first()
    deliveries = [
        record_delivery(letter=LetterFactory(campaign=campaign), recipient=recipient, channel=Channel.EMAIL)
        for _ in range(3)
    ]
    now = timezone.now()
    Delivery.objects.filter(pk=deliveries[0].pk).update(next_attempt_at=now + datetime.timedelta(minutes=5))
    Delivery.objects.filter(pk=deliveries[1].pk).update(next_attempt_at=now - datetime.timedelta(minutes=7))
    Delivery.objects.filter(pk=deliveries[2].pk).update(
        next_attempt_at=None, created_at=now - datetime.timedelta(minutes=3)
    )
    assert oldest_due_email(now) == now - datetime.timedelta(minutes=7)
    Delivery.objects.filter(pk=deliveries[1].pk).update(status="sent")
    assert oldest_due_email(now) == now - datetime.timedelta(minutes=3)


@pytest.mark.django_db(transaction=True)
def test_a_running_worker_beats_and_readiness_counts_it_until_it_stops() -> None:
    env = {**os.environ, "DATABASE_URL": database_url()}
    worker = subprocess.Popen(
        [sys.executable, "-m", "undersigned.cli", "worker", "--interval", "0.2", "--housekeeping-interval", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not WorkerHeartbeat.objects.exists():
            assert time.monotonic() < deadline, "the worker never beat"
            assert worker.poll() is None, "the worker stopped"
            time.sleep(0.1)
        row = WorkerHeartbeat.objects.get()
        assert row.worker.endswith(f":{worker.pid}")
        assert row.expected_by - row.last_loop_at == datetime.timedelta(seconds=12)  # two 1 s loops and 10 s
        workers = json.loads(Client().get("/health/ready").content)["workers"]
        assert workers["alive"] == 1
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    # Later, a worker that stopped beating is no longer counted as alive.
    WorkerHeartbeat.objects.update(expected_by=timezone.now() - datetime.timedelta(seconds=1))
    assert heartbeats.workers_alive().alive == 0
