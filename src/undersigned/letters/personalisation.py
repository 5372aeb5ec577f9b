"""The text of one letter for one recipient: placeholders filled from plain data."""

from __future__ import annotations

from dataclasses import dataclass

from undersigned.campaigns import placeholders


@dataclass(frozen=True)
class Personalised:
    subject: str
    body: str
    # The language of the text it was made from ("" when the caller did not say).
    language: str = ""


def personalise(
    *,
    subject: str,
    body: str,
    sender_name: str,
    sender_town: str,
    sender_country: str,
    recipient_name: str,
    recipient_role: str,
    recipient_organisation: str,
    campaign_title: str,
    language: str = "",
) -> Personalised:
    values = placeholders.values_for(
        supporter_name=sender_name,
        supporter_town=sender_town,
        supporter_country=sender_country,
        recipient_name=recipient_name,
        recipient_role=recipient_role,
        recipient_organisation=recipient_organisation,
        campaign_title=campaign_title,
    )
    return Personalised(
        subject=placeholders.render(subject, values),
        body=placeholders.render(body, values),
        language=language,
    )
