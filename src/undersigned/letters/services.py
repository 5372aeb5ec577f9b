"""Writes for letters: saving what a supporter wrote."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from undersigned.campaigns.models import Campaign
from undersigned.core.models import log_action
from undersigned.supporters.services import get_or_create_supporter

from .models import Letter
from .uniqueness import own_words_percent


@dataclass(frozen=True)
class LetterInput:
    name: str
    email: str
    town: str
    country: str
    postal_address: str
    subject: str
    body: str


class LetterAlreadySent(Exception):
    """The letter has deliveries: its text is what they received and can no longer change."""


def save_letter(*, campaign: Campaign, submission_key: uuid.UUID, data: LetterInput, ip_hash: str = "") -> Letter:
    """Create the letter for this submission key, or update it if the same form comes back.

    A double click, a reload or the back button resubmits the same key, so the supporter
    never ends up with two letters.
    """
    template_body = campaign.template.body
    uniqueness = own_words_percent(data.body, template_body)
    fields = {
        "sender_name": data.name,
        "sender_town": data.town,
        "sender_country": data.country,
        "sender_address": data.postal_address,
        "subject": data.subject,
        "body": data.body,
        "uniqueness": uniqueness,
    }
    try:
        with transaction.atomic():
            letter = Letter.objects.select_for_update().filter(submission_key=submission_key, campaign=campaign).first()
            if letter is not None and letter.sent_at is not None:
                raise LetterAlreadySent
            supporter = get_or_create_supporter(email=data.email, name=data.name, town=data.town, country=data.country)
            if letter is not None:
                for key, value in fields.items():
                    setattr(letter, key, value)
                letter.supporter = supporter
                letter.save()
                log_action("letter.updated", letter)
                return letter
            letter = Letter.objects.create(
                campaign=campaign,
                supporter=supporter,
                submission_key=submission_key,
                ip_hash=ip_hash,
                **fields,
            )
            log_action("letter.created", letter, campaign=campaign.pk)
            return letter
    except IntegrityError:
        # Two identical submissions raced; the other one created it.
        return Letter.objects.get(submission_key=submission_key)


def set_sender_address(*, letter: Letter, postal_address: str) -> Letter:
    with transaction.atomic():
        letter.sender_address = postal_address
        letter.save(update_fields=["sender_address", "updated_at"])
        log_action("letter.sender_address_set", letter)
    return letter
