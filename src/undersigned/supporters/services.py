"""Writes for supporters and their consent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from undersigned.campaigns.models import Campaign
from undersigned.core.models import log_action
from undersigned.organisations.models import Organisation

from .models import ConsentPurpose, ConsentRecord, Supporter

if TYPE_CHECKING:
    # Only for annotations: open letters are a higher app than supporters.
    from undersigned.openletters.models import OpenLetter


def supporter_email(email: str) -> str:
    """The address as a supporter row keeps it: trimmed and lower-cased, otherwise as typed.

    Not ``core.emails.mailbox_identity``: that one folds provider aliases to tell people
    apart, while this is the address letters and updates are sent to.
    """
    return email.strip().lower()


def get_or_create_supporter(*, email: str, name: str, town: str = "", country: str = "") -> Supporter:
    """The supporter for this address. Existing details are not overwritten by whoever types it."""
    supporter, _ = Supporter.objects.get_or_create(
        email=supporter_email(email),
        defaults={"name": name, "town": town, "country": country},
    )
    return supporter


def supporter_id_for(*, email: str, name: str, town: str = "", country: str = "") -> int:
    """The id of the supporter for this address, created if new, in one statement.

    The same rule as ``get_or_create_supporter`` (existing details are never overwritten:
    the conflict only rewrites the address with itself) without its SELECT and
    savepoint; for the letter form, where every submission needs only the id.
    """
    supporter = Supporter(email=supporter_email(email), name=name, town=town, country=country)
    Supporter.objects.bulk_create([supporter], update_conflicts=True, unique_fields=["email"], update_fields=["email"])
    return int(supporter.pk)  # RETURNING gives the id of the row inserted or kept


CAMPAIGN_UPDATES_WORDING = (
    "Yes, {organisation} may email me updates about “{campaign}”. "
    "I can unsubscribe at any time with the link in every update."
)


def campaign_updates_wording(campaign: Campaign) -> str:
    return CAMPAIGN_UPDATES_WORDING.format(organisation=campaign.organisation.name, campaign=campaign.title)


def record_consent(
    *,
    supporter: Supporter,
    purpose: ConsentPurpose,
    granted: bool,
    wording: str,
    source: str,
    campaign: Campaign | None = None,
    open_letter: OpenLetter | None = None,
    organisation: Organisation | None = None,
    ip_hash: str = "",
) -> ConsentRecord:
    """Append one consent row with the exact wording shown. Never updates an earlier row."""
    with transaction.atomic():
        record = ConsentRecord.objects.create(
            supporter=supporter,
            purpose=purpose,
            granted=granted,
            wording=wording,
            campaign=campaign,
            open_letter=open_letter,
            organisation=organisation,
            source=source,
            ip_hash=ip_hash,
        )
        log_action("consent.recorded", record, purpose=str(purpose), granted=granted)
    return record


def has_consent(
    *, supporter: Supporter, purpose: ConsentPurpose, campaign: Campaign | None, open_letter: OpenLetter | None = None
) -> bool:
    latest = (
        ConsentRecord.objects.filter(supporter=supporter, purpose=purpose, campaign=campaign, open_letter=open_letter)
        .order_by("-created_at", "-id")
        .first()
    )
    return bool(latest and latest.granted)
