"""``{{ value|machine_time }}``: a date or time as ``<time datetime>`` wants it.

Django's ``date:"c"`` writes microseconds (``…T10:00:00.123456+00:00``), which HTML does
not allow (at most three digits of a second), so every ``<time>`` with it was invalid.
A builtin (settings.TEMPLATES), so templates need no ``{% load %}``.
"""

from __future__ import annotations

import datetime

from django import template
from django.utils import timezone

register = template.Library()


@register.filter
def machine_time(value: datetime.date | datetime.datetime | None) -> str:
    """Seconds and the offset for a moment (in the site's time zone), ``YYYY-MM-DD`` for a day."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(microsecond=0).isoformat()
    return value.isoformat()
