"""Background work for deliveries. Tasks take primary keys and call services."""

from __future__ import annotations

from django.tasks import task

from . import sending


@task()
def send_delivery(delivery_id: int) -> str:
    return sending.send_one(delivery_id=delivery_id)
