"""Reads for letters."""

from __future__ import annotations

from undersigned.campaigns.models import Recipient
from undersigned.core import countries
from undersigned.supporters.services import supporter_email

from . import texts
from .links import unsign_token
from .models import Letter
from .personalisation import Personalised, personalise


def letter_from_link(value: str) -> Letter | None:
    """The letter behind a supporter's signed link; raises LinkExpired / LinkInvalid."""
    token = unsign_token(value)
    return (
        Letter.objects.select_related("campaign__organisation", "campaign__template", "supporter")
        .filter(token=token)
        .first()
    )


def text_for(letter: Letter, recipient: Recipient) -> Personalised:
    """The letter as this recipient reads it: placeholders filled with the sender's and their details.

    Every channel (the send page, email, digest, print) goes through here, so a letter
    reads the same wherever it arrives. A letter written once per language gives each
    recipient the version in their language (``letters/texts.py``).
    """
    text = texts.text_in(letter, recipient.language)
    return personalise(
        subject=text.subject,
        body=text.body,
        language=text.language,
        sender_name=letter.sender_name,
        sender_town=letter.sender_town,
        sender_country=countries.name(letter.sender_country),
        recipient_name=recipient.name,
        recipient_role=recipient.role,
        recipient_organisation=recipient.organisation_name,
        campaign_title=letter.campaign.title,
    )


LINKS_AT_MOST = 20  # letters listed in one "your links again" email, the newest first


def letters_of_address(*, campaign_id: int, email: str) -> list[int]:
    """The ids of the letters written with this address in this campaign (for "get my
    link again"), the newest first; by the address as the supporter row keeps it."""
    return list(
        Letter.objects.filter(campaign_id=campaign_id, supporter__email=supporter_email(email))
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)[:LINKS_AT_MOST]
    )


def supporters_by_section(campaign_id: int) -> dict[int, set[int]]:
    """A campaign addressed to a group: for each member (section) its letters went to,
    the ids of the supporters who wrote them. One query of two integer columns."""
    sections: dict[int, set[int]] = {}
    rows = Letter.objects.filter(campaign_id=campaign_id, addressed_to__isnull=False).values_list(
        "addressed_to_id", "supporter_id"
    )
    for recipient_id, supporter_id in rows.iterator(chunk_size=2000):
        if recipient_id is not None:
            sections.setdefault(recipient_id, set()).add(supporter_id)
    return sections
