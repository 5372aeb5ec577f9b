"""A campaign's reply settings: set in the editor (bad input next to the field), carried
by campaign files both ways, and the reply question waits the campaign's own delay."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.campaigns.test_campaign_files import VALID, problems, replace
from tests.dashboard.test_campaign_editor import _form, _new_url
from tests.factories import CampaignFactory, LetterFactory, RecipientFactory
from undersigned.campaigns.campaign_files import dump, parse
from undersigned.campaigns.enums import Channel, ReplyAddress
from undersigned.campaigns.models import Campaign
from undersigned.campaigns.services import export_campaign, import_campaign
from undersigned.delivery import replies
from undersigned.delivery.services import record_delivery
from undersigned.letters.models import Letter

pytestmark = pytest.mark.django_db


@pytest.fixture
def recipients(organisation: Any) -> list[Any]:
    return [RecipientFactory(organisation=organisation, name=name) for name in ("Rowan Ashby", "Amal Haddad", "Siân")]


@pytest.fixture
def client_of(member: Any) -> Client:
    client = Client()
    client.force_login(member)
    return client


def _field(page: str, name: str) -> str:
    found = re.search(rf'<div class="field" id="field-{name}">(.*?)</div>', page, re.S)
    return found.group(1) if found else ""


def test_the_editor_sets_the_reply_settings(client_of: Client, organisation: Any, recipients: list[Any]) -> None:
    page = client_of.get(_new_url(organisation)).content.decode()
    assert 'name="reply_ask_days"' in page
    assert 'value="14"' in _field(page, "reply_ask_days")
    assert 'name="reply_address" value="reply_to"' in page
    assert "checked" in page.split('value="reply_to"')[1][:40]
    assert 'name="responsiveness_public"' in page

    data = _form(recipients, reply_ask_days="30", reply_address="cc", responsiveness_public="on")
    assert client_of.post(_new_url(organisation), data).status_code == 302
    campaign = Campaign.objects.get(organisation=organisation)
    assert (campaign.reply_ask_days, campaign.reply_address, campaign.responsiveness_public) == (30, "cc", True)

    url = reverse("dashboard:campaign_edit", args=[campaign.slug])
    page = client_of.get(url).content.decode()
    assert 'value="30"' in _field(page, "reply_ask_days")
    edited = _form(recipients, slug=campaign.slug, reply_ask_days="7", reply_address="off")
    assert client_of.post(url, edited).status_code == 302
    campaign.refresh_from_db()
    assert (campaign.reply_ask_days, campaign.reply_address, campaign.responsiveness_public) == (7, "off", False)


@pytest.mark.parametrize("typed", ["0", "181", "-3", "two weeks", "1.5"])
def test_a_bad_delay_is_shown_next_to_the_field_as_typed(
    client_of: Client, organisation: Any, recipients: list[Any], typed: str
) -> None:
    response = client_of.post(_new_url(organisation), _form(recipients, reply_ask_days=typed))
    assert response.status_code == 400
    field = _field(response.content.decode(), "reply_ask_days")
    assert "Give a whole number of days from 1 to 180." in field
    assert f'value="{typed}"' in field
    assert not Campaign.objects.filter(organisation=organisation).exists()


def test_a_forged_placement_is_refused(client_of: Client, organisation: Any, recipients: list[Any]) -> None:
    response = client_of.post(_new_url(organisation), _form(recipients, reply_address="bcc"))
    assert response.status_code == 400
    assert "Choose one of the ways listed." in response.content.decode()


def test_campaign_files_carry_the_reply_settings_both_ways(organisation: Any) -> None:
    lines = 'min_uniqueness = 30\nreply_ask_days = 45\nreply_address = "cc"\nresponsiveness_public = true'
    data = parse(replace(VALID, "min_uniqueness = 30", lines))
    assert (data.reply_ask_days, data.reply_address, data.responsiveness_public) == (45, "cc", True)
    campaign, _ = import_campaign(organisation=organisation, data=data)
    campaign.refresh_from_db()
    assert (campaign.reply_ask_days, campaign.reply_address, campaign.responsiveness_public) == (45, "cc", True)
    exported = dump(export_campaign(campaign))
    assert 'reply_ask_days = 45\nreply_address = "cc"\nresponsiveness_public = true' in exported
    assert parse(exported) == data
    again, created = import_campaign(organisation=organisation, data=parse(exported))
    assert not created
    assert dump(export_campaign(again)) == exported

    # Without the keys: the defaults, and an export that leaves them out again.
    plain = parse(VALID)
    assert (plain.reply_ask_days, plain.reply_address, plain.responsiveness_public) == (None, "reply_to", False)
    campaign, _ = import_campaign(organisation=organisation, data=plain)
    campaign.refresh_from_db()
    assert (campaign.reply_ask_days, campaign.reply_address, campaign.responsiveness_public) == (14, "reply_to", False)
    assert "reply_" not in dump(export_campaign(campaign))


def test_bad_reply_settings_in_a_file_are_named() -> None:
    bad = 'min_uniqueness = 30\nreply_ask_days = 400\nreply_address = "bcc"\nresponsiveness_public = "yes"'
    found = problems(replace(VALID, "min_uniqueness = 30", bad))
    assert any("campaign.reply_ask_days must be a whole number of days from 1 to 180" in p for p in found)
    assert any("campaign.reply_address" in p and "reply_to" in p for p in found)
    assert any("campaign.responsiveness_public" in p for p in found)


def test_the_question_waits_the_campaigns_own_delay(organisation: Any, settings: Any) -> None:
    settings.REPLY_ASK_AFTER_DAYS = 14
    recipient = RecipientFactory(organisation=organisation)
    quick = CampaignFactory(organisation=organisation, slug="quick", recipients=[recipient], reply_ask_days=3)
    slow = CampaignFactory(organisation=organisation, slug="slow", recipients=[recipient], reply_ask_days=60)
    usual = CampaignFactory(organisation=organisation, slug="usual", recipients=[recipient])
    assert usual.reply_ask_days == 14

    def sent(campaign: Any, days_ago: int) -> int:
        letter = LetterFactory(campaign=campaign, supporter__email=f"{campaign.slug}{days_ago}@example.net")
        record_delivery(letter=letter, recipient=recipient, channel=Channel.MAILTO)
        Letter.objects.filter(pk=letter.pk).update(sent_at=timezone.now() - datetime.timedelta(days=days_ago))
        return int(letter.pk)

    due = {sent(quick, 4), sent(slow, 61), sent(usual, 15)}
    sent(quick, 2)
    sent(slow, 30)  # past the site's 14 days, not the campaign's 60
    sent(usual, 10)
    sent(quick, 3 + replies.ASK_WINDOW_DAYS + 1)  # too long ago to ask
    assert set(replies.due_asks()) == due
    assert usual.reply_address == ReplyAddress.REPLY_TO
