"""``undersigned remove_expired_endorsements``: delete endorsements nobody confirmed in time.

The worker's housekeeping runs the same service every minute; the command is for
installations that run no worker, e.g. from cron.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from undersigned.openletters.services.endorsing import remove_expired


class Command(BaseCommand):
    help = "Delete endorsements whose confirmation time ran out, and changes nobody confirmed."

    def handle(self, *args: Any, **options: Any) -> None:
        removed = remove_expired()
        self.stdout.write(f"Removed {removed} unconfirmed endorsement{'' if removed == 1 else 's'}.")
