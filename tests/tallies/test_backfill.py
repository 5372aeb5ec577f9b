"""The migrations that created the tallies count the rows already there: run on letters,
deliveries and endorsements whose tallies were lost, each backfill gives what the
recount gives."""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.db import connection

from tests.factories import CampaignFactory, LetterFactory, RecipientFactory
from tests.openletters.conftest import make_open_letter
from tests.tallies.recount import kept_campaign, kept_open_letter, recount_campaign, recount_open_letter
from undersigned.campaigns.enums import Channel
from undersigned.delivery.models import DeliveryTally
from undersigned.delivery.services import record_delivery
from undersigned.letters.models import LetterTally
from undersigned.openletters.models import EndorsementTally
from undersigned.openletters.services import endorsing, moderation

pytestmark = pytest.mark.django_db


def _backfill(app: str, migration: str, function: str) -> None:
    module = importlib.import_module(f"undersigned.{app}.migrations.{migration}")
    getattr(module, function)(apps, SimpleNamespace(connection=connection))


def test_the_backfills_count_what_is_there(organisation: Any) -> None:
    board, chair = RecipientFactory(organisation=organisation), RecipientFactory(organisation=organisation)
    campaign = CampaignFactory(organisation=organisation, slug="riverside", recipients=[board, chair])
    for n, country in enumerate(("GB", "IE", "", "GB")):
        written = LetterFactory(campaign=campaign, sender_country=country, uniqueness=n * 30)
        record_delivery(letter=written, recipient=(board, chair)[n % 2], channel=Channel.WEB_FORM)
        if n % 2:
            record_delivery(letter=written, recipient=board, channel=Channel.MAILTO)
    letter = make_open_letter(organisation)
    for n in range(4):
        endorsing.record_confirmed(
            letter=letter, data=endorsing.EndorsementInput(name=f"E{n}", email=f"e{n}@example.org")
        )
    waiting = endorsing.endorse(letter=letter, data=endorsing.EndorsementInput(name="W", email="w@example.org"))
    moderation.hide(endorsement=waiting, reason="spam", actor=None)
    expected_campaign, expected_letter = recount_campaign(campaign.pk), recount_open_letter(letter.pk)
    assert expected_campaign[("saved", "")] == 4
    assert expected_letter[("hidden", "")] == 1
    LetterTally.objects.all().delete()
    DeliveryTally.objects.all().delete()
    EndorsementTally.objects.all().delete()

    _backfill("letters", "0005_tallies", "count_existing_letters")
    _backfill("delivery", "0009_tallies", "count_existing_deliveries")
    _backfill("openletters", "0006_tallies", "count_existing_endorsements")

    assert kept_campaign(campaign.pk) == expected_campaign
    assert kept_open_letter(letter.pk) == expected_letter
