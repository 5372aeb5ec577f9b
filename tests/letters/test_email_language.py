"""A supporter's emails about a letter are in the language they wrote in; a recipient's in the letter's."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import CampaignFactory, LetterFactory, RecipientFactory
from tests.languages import templates_that_print_the_language
from tests.letters.test_supporter_emails import form
from undersigned.campaigns.enums import Channel
from undersigned.delivery.digests import build_message
from undersigned.delivery.models import Digest
from undersigned.delivery.services import record_delivery
from undersigned.letters import emails
from undersigned.letters.models import Letter

pytestmark = pytest.mark.django_db


def _write(client: Client, campaign: Any) -> Letter:
    data = form(campaign)
    response = client.post(reverse("public:compose", args=[campaign.slug]), data)
    assert response.status_code == 302
    return Letter.objects.get(submission_key=data["submission_key"])


def test_the_supporters_language_is_recorded_and_their_emails_follow_it(
    campaign: Any, settings: Any, tmp_path: Path
) -> None:
    letter = _write(Client(HTTP_ACCEPT_LANGUAGE="fr"), campaign)
    assert letter.language == "fr"
    # Real French from Django's own catalogue: the date the posted notice names.
    posted = emails.posted_message(letter, posted_on=datetime.date(2026, 12, 5))
    assert "5 décembre 2026" in str(posted.body)

    templates_that_print_the_language(settings, tmp_path, "letters/email/confirmation.txt")
    assert "[language: fr]" in str(emails.confirmation_message(letter).body)
    # Written before languages were recorded: the campaign's language.
    Letter.objects.filter(pk=letter.pk).update(language="")
    assert "[language: en]" in str(emails.confirmation_message(Letter.objects.get(pk=letter.pk)).body)


def test_a_recipients_digest_is_in_the_letters_language(organisation: Any) -> None:
    recipient = RecipientFactory(organisation=organisation, name="Dr Amal Haddad", daily_digest=True, language="de")
    campaign = CampaignFactory(organisation=organisation, recipients=[recipient], language="fr")
    # The supporter wrote from an English page; the letter, and so the digest, is French.
    letter = LetterFactory(campaign=campaign, language="en")
    delivery = record_delivery(letter=letter, recipient=recipient, channel=Channel.EMAIL)
    digest = Digest.objects.create(recipient=recipient, day=datetime.date(2026, 12, 5))
    message = build_message(digest, [delivery])
    assert "décembre" in str(message.subject)
    assert "5 décembre 2026" in str(message.body)
