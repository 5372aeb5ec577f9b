"""Fence (c): the results pages ask the database the same number of questions at 3 and at
30 letters (or endorsements): they read kept tallies, never the rows."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import CampaignFactory, RecipientFactory
from tests.openletters.conftest import make_open_letter
from undersigned.campaigns.enums import Channel
from undersigned.delivery.services import record_delivery
from undersigned.letters.services import LetterInput, save_letter
from undersigned.openletters.services import endorsing

pytestmark = pytest.mark.django_db


def _queries(client: Client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def _letters(campaign: Any, recipients: list[Any], start: int, count: int) -> None:
    for n in range(start, start + count):
        letter = save_letter(
            campaign=campaign,
            submission_key=uuid.uuid4(),
            data=LetterInput(
                name=f"Writer {n}",
                email=f"writer{n}@example.net",
                town="Wendmouth",
                country=("GB", "IE", "FR", "DE", "")[n % 5],
                postal_address="",
                subject="Please keep the riverside path open",
                body=f"Dear Chair,\n\nLetter number {n}, {'in my own words ' * (n % 7)}.",
            ),
        )
        channel = (Channel.MAILTO, Channel.WEB_FORM, Channel.EMAIL)[n % 3]
        record_delivery(letter=letter, recipient=recipients[n % len(recipients)], channel=channel)


def test_the_campaign_results_page_costs_the_same_queries_at_3_and_30_letters(
    client: Client, organisation: Any, member: Any
) -> None:
    recipients = [RecipientFactory(organisation=organisation, name=f"Member {n}") for n in range(3)]
    campaign = CampaignFactory(organisation=organisation, slug="riverside", recipients=recipients)
    client.force_login(member)
    url = reverse("dashboard:campaign_results", args=[campaign.slug])
    _letters(campaign, recipients, 0, 3)
    small, small_html = _queries(client, url)
    _letters(campaign, recipients, 3, 27)
    large, large_html = _queries(client, url)
    assert "30" in large_html
    assert large_html != small_html
    assert small == large


def test_the_open_letter_results_page_costs_the_same_queries_at_3_and_30_endorsements(
    client: Client, organisation: Any, member: Any, smtp_sink: Any
) -> None:
    letter = make_open_letter(organisation)
    client.force_login(member)
    url = reverse("dashboard:open_letter_results", args=[letter.slug])

    def endorse(start: int, count: int) -> None:
        for n in range(start, start + count):
            made = endorsing.endorse(
                letter=letter,
                data=endorsing.EndorsementInput(
                    name=f"E {n}", email=f"e{n}@example.org", country=("IE", "CZ", "JP")[n % 3]
                ),
            )
            if n % 2:
                made.refresh_from_db()
                endorsing.confirm(endorsement_id=made.pk, nonce=made.confirm_nonce)

    endorse(0, 3)
    small, small_html = _queries(client, url)
    endorse(3, 27)
    large, large_html = _queries(client, url)
    assert large_html != small_html
    assert small == large
