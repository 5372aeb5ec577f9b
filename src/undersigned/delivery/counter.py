"""The public counter of a campaign: ``Campaign.letters_sent``, letters that were sent.

What it counts: a letter counts once, when its first delivery reaches self-reported
evidence or above (``Evidence.SELF_REPORTED``): the supporter tells us they sent it
(mailto, web form, their own post), a copy comes back to its BCC address, our mail
server accepts the email we send for them (or the daily digest carrying it), or the
organisation marks its printed letter posted. A letter only waiting (an email queued,
a post request not yet printed and posted) does not count yet. A letter that several
channels carry to one recipient, or that goes to several recipients, counts once.

How: ``Letter.counted_at`` is the gate. A conditional update sets it only on a letter
not counted yet and says how many rows it changed; only those move the campaign's
counter, by an ``F()`` update in the same transaction. However many deliveries of one
letter race here (two workers, a copy arriving while the organiser marks a print
posted), the counter moves by exactly one per letter.

What it does not do: a bounce or any later step down the evidence ladder never
uncounts a letter (the supporter did send it). ``Letter.sent_at`` is another thing:
the first delivery *recorded*, which freezes the letter's text.

Called by every place a delivery climbs to self-reported or above:
``services.record_delivery`` (self-reported channels), ``services.record_copy``,
``services.mark_print_job_posted``, ``sending._attempt`` (the email engine) and
``digests.send_digest``. ``delivery/migrations/0008`` computed it once for letters
counted under the old meaning ("a delivery recorded").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from undersigned.campaigns.models import Campaign
from undersigned.letters.models import Letter

_CHUNK = 500  # letters updated per statement


def count_letter(*, letter_id: int, campaign_id: int, now: datetime | None = None) -> bool:
    """Count one letter in its campaign's counter, unless it counts already; True if it moved."""
    with transaction.atomic():
        if not Letter.objects.filter(pk=letter_id, counted_at__isnull=True).update(counted_at=now or timezone.now()):
            return False
        Campaign.objects.filter(pk=campaign_id).update(letters_sent=F("letters_sent") + 1)
    return True


def count_letters(*, letter_ids: Iterable[int], now: datetime | None = None) -> int:
    """Count many letters (a posted print, a digest) at once; return how many newly counted.

    Grouped by campaign (a letter never changes campaign, so reading it first is safe);
    the conditional update decides, as for one letter.
    """
    now = now or timezone.now()
    by_campaign: dict[int, list[int]] = defaultdict(list)
    ids = list(letter_ids)
    for start in range(0, len(ids), _CHUNK):
        rows = Letter.objects.filter(pk__in=ids[start : start + _CHUNK], counted_at__isnull=True)
        for letter_id, campaign_id in rows.values_list("pk", "campaign_id"):
            by_campaign[campaign_id].append(letter_id)
    counted = 0
    with transaction.atomic():
        for campaign_id, letters in by_campaign.items():
            moved = 0
            for start in range(0, len(letters), _CHUNK):
                chunk = letters[start : start + _CHUNK]
                moved += Letter.objects.filter(pk__in=chunk, counted_at__isnull=True).update(counted_at=now)
            if moved:
                Campaign.objects.filter(pk=campaign_id).update(letters_sent=F("letters_sent") + moved)
            counted += moved
    return counted
