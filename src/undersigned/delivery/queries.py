"""Reads for deliveries."""

from __future__ import annotations

from undersigned.letters.models import Letter

from .models import Delivery


def deliveries_by_recipient_channel(letter: Letter) -> dict[tuple[int, str], Delivery]:
    return {(d.recipient_id, d.channel): d for d in Delivery.objects.filter(letter=letter)}
