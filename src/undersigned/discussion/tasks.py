"""Background work for discussions: the emails. Tasks take primary keys and call services.

Each comment row records whether its email went out (a conditional update claims it
first), so a repeated task sends nothing twice.
"""

from __future__ import annotations

from django.tasks import task

from . import services


@task()
def send_confirmation(comment_id: int) -> bool:
    return services.send_confirmation(comment_id)


@task()
def send_reply_notification(comment_id: int) -> bool:
    return services.send_reply_notification(comment_id)
