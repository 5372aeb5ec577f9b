"""``undersigned erase_expired_letters``: erase the personal data of letters whose
campaign closed more than ``UNDERSIGNED_LETTER_RETENTION_DAYS`` ago.

The worker's housekeeping runs the same service every minute; the command is for
installations that run no worker, e.g. from cron.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from undersigned.privacy.retention import erase_expired_letters


class Command(BaseCommand):
    help = "Erase senders' personal data from letters of campaigns closed longer than the retention period."

    def handle(self, *args: Any, **options: Any) -> None:
        done = erase_expired_letters()
        self.stdout.write(f"Anonymised {done} letter{'' if done == 1 else 's'}.")
