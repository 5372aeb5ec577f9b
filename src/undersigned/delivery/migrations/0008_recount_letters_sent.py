"""The public counter counts letters sent (delivery/counter.py), no longer letters with a
delivery merely recorded (an email queued, a post only requested).

Each letter with a delivery that reached self-reported evidence or above, or that went
out and bounced since (a bounce takes the evidence back down, never the count), is
marked counted; each campaign's ``letters_sent`` becomes the number of its counted
letters. Going back restores the old meaning: letters with any delivery recorded.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

SELF_REPORTED = 10
WENT_OUT = ["sent", "bounced", "reported"]


def _set_counters(apps: Any, *, field: str) -> None:
    campaign_model = apps.get_model("campaigns", "Campaign")
    letter_model = apps.get_model("letters", "Letter")
    per_campaign = (
        letter_model.objects.filter(campaign=OuterRef("pk"), **{f"{field}__isnull": False})
        .order_by()
        .values("campaign")
        .annotate(n=Count("pk"))
        .values("n")
    )
    campaign_model.objects.update(letters_sent=Coalesce(Subquery(per_campaign), Value(0)))


def recount(apps: Any, schema_editor: Any) -> None:
    letter_model = apps.get_model("letters", "Letter")
    delivery_model = apps.get_model("delivery", "Delivery")
    went_out = delivery_model.objects.filter(letter=OuterRef("pk")).filter(
        Q(evidence__gte=SELF_REPORTED) | Q(status__in=WENT_OUT)
    )
    letter_model.objects.update(counted_at=None)
    letter_model.objects.filter(Exists(went_out)).update(counted_at=Coalesce(F("sent_at"), Value(timezone.now())))
    _set_counters(apps, field="counted_at")


def back(apps: Any, schema_editor: Any) -> None:
    _set_counters(apps, field="sent_at")


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0007_email_queue_index"),
        ("letters", "0004_counter_and_supporter_emails"),
        ("campaigns", "0005_archived_status"),
    ]

    operations = [migrations.RunPython(recount, back)]
