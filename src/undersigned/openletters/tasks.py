"""Background work for open letters. Tasks take primary keys and call ``mail``/services."""

from __future__ import annotations

from django.tasks import task


@task()
def send_confirmation(endorsement_id: int) -> bool:
    """Enqueued after an endorsement is submitted; emails its confirmation link and code."""
    from . import mail  # noqa: PLC0415 (loads the mail machinery only when a worker runs the task)

    return mail.send_confirmation(endorsement_id)


@task()
def fan_out_update(update_id: int) -> int:
    """Enqueued when an organiser sends an update: writes one email per supporter it reaches."""
    from .services import updates  # noqa: PLC0415 (loads the services only when a worker runs the task)

    return updates.fan_out(update_id)
