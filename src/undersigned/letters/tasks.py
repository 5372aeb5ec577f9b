"""Background work for letters: the supporter's emails. Tasks take primary keys.

Each letter row records whether its email went out (``emails`` claims it first), so a
repeated task sends nothing twice.
"""

from __future__ import annotations

from django.tasks import task

from . import emails


@task()
def send_confirmation(letter_id: int) -> bool:
    """Enqueued when a letter is first saved: the private link and a copy of the letter."""
    return emails.send_confirmation(letter_id)


@task()
def send_links(letter_ids: list[int]) -> bool:
    """Enqueued by the "get my link again" form: the links of one address's letters."""
    return emails.send_links(letter_ids)
