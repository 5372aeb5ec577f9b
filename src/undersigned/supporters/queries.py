"""Reads for supporters and what they agreed to."""

from __future__ import annotations

from collections.abc import Iterator

from .models import ConsentPurpose, ConsentRecord, erased

EXPORT_CHUNK = 2000  # consent rows read from the database at a time


def agreed_to_updates(
    *, purpose: ConsentPurpose, campaign_id: int | None = None, open_letter_id: int | None = None
) -> Iterator[ConsentRecord]:
    """The supporters who agree now to hear more about a campaign or an open letter: for
    each, the latest grant (its exact wording and date), with the supporter loaded.

    Consent rows are append-only, a withdrawal being a row of its own, so a supporter
    agrees now when their latest row for this purpose and campaign (or letter) grants.
    Read by supporter ``EXPORT_CHUNK`` rows at a time; one supporter's rows in memory.
    """
    if (campaign_id is None) == (open_letter_id is None):
        raise ValueError("name a campaign or an open letter")
    rows = ConsentRecord.objects.filter(purpose=purpose).exclude(erased("supporter__"))
    rows = (
        rows.filter(campaign_id=campaign_id) if campaign_id is not None else rows.filter(open_letter_id=open_letter_id)
    )
    rows = (
        rows.select_related("supporter")
        .only(
            "id", "granted", "wording", "source", "created_at",
            "supporter", "supporter__email", "supporter__name", "supporter__country",
        )
        .order_by("supporter_id", "created_at", "id")
    )  # fmt: skip
    latest: ConsentRecord | None = None
    for record in rows.iterator(chunk_size=EXPORT_CHUNK):
        if latest is not None and latest.supporter_id != record.supporter_id and latest.granted:
            yield latest
        latest = record
    if latest is not None and latest.granted:
        yield latest
