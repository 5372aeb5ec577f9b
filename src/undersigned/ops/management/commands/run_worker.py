"""`undersigned worker`: Django's database task worker plus the engine's housekeeping.

django-tasks-db runs tasks but has no periodic jobs. The worker therefore runs a
small housekeeping loop beside it: every minute it returns deliveries whose worker
died mid-send to the queue, looks for due work that lost its task, sends the day's
digests, asks supporters whether their letters got a reply, fails print jobs that
stopped moving (the reason shows on the print page),
deletes print PDFs older than ``UNDERSIGNED_PRINT_RETENTION_DAYS`` (they hold home
addresses), removes chunk folders that killed prints left behind, removes
endorsements of open letters nobody confirmed in time and queues again confirmation
emails whose task was lost (endorsements and comments) and updates' fan-outs whose
task was lost, and deletes comments whose
authors never confirmed their address in time, and erases the senders' personal data
from letters of campaigns closed longer than ``UNDERSIGNED_LETTER_RETENTION_DAYS``. Several workers
may run it at once; each step is a conditional update, so that does no harm.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import InterfaceError, OperationalError, close_old_connections, connections
from django.utils import timezone

from undersigned.core import heartbeats
from undersigned.delivery import bulk_print, digests, replies, sending
from undersigned.discussion import services as discussion
from undersigned.openletters.services import endorsing, sections
from undersigned.openletters.services import updates as openletter_updates
from undersigned.privacy import retention

logger = logging.getLogger(__name__)

HOUSEKEEPING_INTERVAL = 60.0
RESTART_DELAY = 0.5  # seconds before the loop starts again after a lost connection


def housekeeping() -> None:
    try:
        sending.sweep_stale()
        sending.schedule_due()
        digests.send_due_digests()
        replies.send_due_asks()
        bulk_print.fail_stalled_jobs()
        bulk_print.delete_expired_files()
        bulk_print.remove_abandoned_temp_folders()
        sections.delete_abandoned_parts()
        endorsing.remove_expired()
        endorsing.resend_unsent()
        openletter_updates.resume_stalled()
        discussion.resend_unsent()
        discussion.remove_unconfirmed()
        retention.erase_expired_letters()
    finally:
        close_old_connections()


def _beat(worker: str, started_at: Any, interval: float) -> None:
    # The readiness endpoint shows operators when no worker has looped lately.
    try:
        heartbeats.record_heartbeat(worker=worker, started_at=started_at, interval=interval)
    except Exception:
        logger.exception("heartbeat failed")
    finally:
        close_old_connections()


def _housekeeping_loop(stop: threading.Event, interval: float) -> None:
    worker, started_at = heartbeats.this_worker(), timezone.now()
    _beat(worker, started_at, interval)
    while not stop.wait(interval):
        _beat(worker, started_at, interval)
        try:
            housekeeping()
        except Exception:
            # Housekeeping must never stop the worker; the next round tries again.
            logger.exception("housekeeping failed")


class Command(BaseCommand):
    help = "Run a task worker (sends email, builds print jobs). Reloading is always off."
    # System checks inspect URLs, templates and models, which a worker doesn't serve; they
    # cost a second at every start and `serve`/`migrate`/CI run them anyway.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", action="store_true", help="Run what is queued, then exit.")
        parser.add_argument("--interval", type=float, default=1.0)
        parser.add_argument("--housekeeping-interval", type=float, default=HOUSEKEEPING_INTERVAL)

    def handle(self, *args: Any, **options: Any) -> None:
        housekeeping()
        worker_args = ["--no-reload", "--interval", str(options["interval"])]
        if options["batch"]:
            call_command("db_worker", *worker_args, "--batch", "--no-startup-delay")
            return
        stop = threading.Event()
        thread = threading.Thread(target=_housekeeping_loop, args=(stop, options["housekeeping_interval"]), daemon=True)
        thread.start()
        try:
            while True:
                try:
                    call_command("db_worker", *worker_args)
                    return
                except (OperationalError, InterfaceError):
                    # The database dropped the connection where django-tasks-db's loop does
                    # not expect it (polling, or recording a task's result): start the loop
                    # again on a new connection rather than end the worker. The task whose
                    # result was not recorded stays "running"; what it sent is in its rows.
                    logger.warning("the worker lost its database connection; starting again", exc_info=True)
                    connections.close_all()
                    time.sleep(RESTART_DELAY)
        finally:
            stop.set()
