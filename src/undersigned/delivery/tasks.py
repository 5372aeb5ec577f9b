"""Background work for deliveries. Tasks take primary keys (or nothing) and call the engine.

The ``Delivery`` rows are the truth: a task only says "look at the queue now", so a
lost task delays nothing for long (the next one, or the worker's sweeper, picks the
delivery up) and a repeated task sends nothing twice.
"""

from __future__ import annotations

from django.tasks import task

from . import bulk_print, sending


@task()
def send_delivery(delivery_id: int) -> int:
    """What older versions enqueued for each queued delivery; kept so such tasks still run."""
    return sending.send_queued()


@task()
def send_queued() -> int:
    """Send a batch of due deliveries. ``sending.wake_senders`` enqueues it, once per wait."""
    return sending.send_queued()


@task()
def build_print_job(job_id: int) -> str:
    """Enqueued when an organiser starts a bulk print; builds the job's PDF in chunks.

    The ``PrintJob`` row is the truth: a repeated or late task finds the job no longer
    waiting and does nothing.
    """
    return bulk_print.build_print_job(job_id)


@task()
def send_posted_notices(job_id: int) -> int:
    """Enqueued when organisers mark a print posted: each supporter hears, once per letter."""
    return bulk_print.send_posted_notices(job_id)
