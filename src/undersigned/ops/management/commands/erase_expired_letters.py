"""``undersigned erase_expired_letters``: erase the personal data of letters whose
campaign closed more than ``UNDERSIGNED_LETTER_RETENTION_DAYS`` ago, and of the
supporters those letters leave with nothing else that needs them.

The worker's housekeeping runs the same service every minute; the command is for
installations that run no worker, e.g. from cron.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from undersigned.privacy.retention import erase_expired


class Command(BaseCommand):
    help = (
        "Erase senders' personal data from letters of campaigns closed longer than the retention period, "
        "and the supporters they leave with nothing else."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        done = erase_expired()
        self.stdout.write(f"Anonymised {done.letters} letter{'' if done.letters == 1 else 's'}.")
        if done.supporters:
            self.stdout.write(f"Anonymised {done.supporters} supporter{'' if done.supporters == 1 else 's'}.")
