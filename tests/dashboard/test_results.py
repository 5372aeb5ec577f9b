"""The results pages of a campaign and an open letter: the numbers a person reads in each
table, the chart drawn beside it (an SVG of the same numbers), and who may look."""

from __future__ import annotations

import base64
import datetime
import html as html_lib
import re
from typing import Any

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from tests.factories import (
    CampaignFactory,
    LetterFactory,
    MembershipFactory,
    OrganisationFactory,
    RecipientFactory,
    UserFactory,
)
from tests.openletters.conftest import make_open_letter
from undersigned.campaigns.enums import Channel
from undersigned.core import countries
from undersigned.delivery.models import Delivery, Evidence
from undersigned.delivery.services import record_delivery
from undersigned.delivery.tallies import tallying
from undersigned.letters.models import ComposerOpenedDay
from undersigned.openletters.models import OpenLetter
from undersigned.openletters.services import endorsing, moderation
from undersigned.organisations.models import Role

pytestmark = pytest.mark.django_db


def table(html: str, testid: str) -> list[list[str]]:
    """The rows of the table ``data-testid=testid`` as a person reads them (cells' text)."""
    found = re.search(rf'<table[^>]*data-testid="{testid}"[^>]*>(.*?)</table>', html, re.S)
    assert found, testid
    rows = re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows]
    return [[html_lib.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in row] for row in cells]


def svg(html: str, testid: str) -> str:
    """The chart's SVG (an <img> with a data: URL and an empty alt: the table is its text)."""
    found = re.search(
        rf'<img class="chart" src="data:image/svg\+xml;base64,([^"]+)" alt="" [^>]*data-testid="{testid}"', html
    )
    assert found, testid
    return base64.b64decode(found.group(1)).decode("utf-8")


@pytest.fixture
def campaign(organisation: Any) -> Any:
    board = RecipientFactory(organisation=organisation, name="Wend River Board", country="GB")
    chair = RecipientFactory(organisation=organisation, name="Chair of the Council", country="IE")
    campaign = CampaignFactory(organisation=organisation, slug="riverside", recipients=[board, chair])

    def deliver(letter: Any, recipient: Any, channel: Channel, evidence: Evidence) -> None:
        delivery = record_delivery(letter=letter, recipient=recipient, channel=channel)
        with tallying([letter.pk]):  # a level no service sets yet (a reply), with the tallies it moves
            Delivery.objects.filter(pk=delivery.pk).update(evidence=evidence)

    emailed = LetterFactory(campaign=campaign, sender_country="GB", uniqueness=42)
    deliver(emailed, board, Channel.EMAIL, Evidence.PLATFORM_DELIVERED)
    deliver(emailed, board, Channel.WEB_FORM, Evidence.SELF_REPORTED)
    copied = LetterFactory(campaign=campaign, sender_country="IE", uniqueness=7)
    deliver(copied, chair, Channel.MAILTO, Evidence.VERIFIED_COPY)
    LetterFactory(campaign=campaign, sender_country="", uniqueness=0)  # saved, not sent
    answered = LetterFactory(campaign=campaign, sender_country="GB", uniqueness=100)
    deliver(answered, board, Channel.POST, Evidence.REPLY_RECEIVED)
    today = timezone.localdate()
    ComposerOpenedDay.objects.create(campaign=campaign, day=today, count=10)
    ComposerOpenedDay.objects.create(campaign=campaign, day=today - datetime.timedelta(days=1), count=5)
    # Another campaign's letters count nowhere here.
    LetterFactory(campaign=CampaignFactory(organisation=organisation, slug="elsewhere"), sender_country="FR")
    return campaign


def test_a_campaigns_results(client: Client, campaign: Any, member: Any) -> None:
    client.force_login(member)
    response = client.get(reverse("dashboard:campaign_results", args=[campaign.slug]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    html = response.content.decode()
    assert table(html, "funnel") == [
        ["Step", "Number"],
        ["Composer opened", "15"],
        ["Letter saved", "4"],
        ["Self-reported", "3"],
        ["Verified copy", "3"],
        ["Platform delivered", "2"],
        ["Reply received", "1"],
    ]
    assert table(html, "channels")[1:] == [
        ["Supporter's own email", "1", "1", "1", "0", "0"],
        ["Sent by the platform", "1", "1", "1", "1", "0"],
        ["Recipient's web form", "1", "1", "0", "0", "0"],
        ["By post", "1", "1", "1", "1", "1"],
    ]
    today = timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)
    assert table(html, "days")[1:] == [
        [date_format(yesterday, "SHORT_DATE_FORMAT"), "5", "0"],
        [date_format(today, "SHORT_DATE_FORMAT"), "10", "4"],
    ]
    assert table(html, "recipients")[1:] == [
        ["Wend River Board", "3", "3", "2", "2", "1"],
        ["Chair of the Council", "1", "1", "1", "0", "0"],
    ]
    assert table(html, "countries")[1:] == [
        [countries.name("GB"), "2"],
        ["Not given", "1"],
        [countries.name("IE"), "1"],
    ]
    assert table(html, "own-words")[1:] == [
        ["0–10 %", "2"],
        ["10–25 %", "0"],
        ["25–50 %", "1"],
        ["50–75 %", "0"],
        ["75–100 %", "1"],
    ]
    assert "On average 37 % of a letter" in html  # (42 + 7 + 0 + 100) / 4
    # Each chart is an SVG drawn from the same numbers, with its labels and no script.
    funnel = svg(html, "chart-funnel")
    assert funnel.lstrip().startswith("<?xml")
    assert "<svg" in funnel
    assert "<script" not in funnel
    for label in ("Composer opened", "Letter saved", "Reply received", ">15<", ">4<"):
        assert label in funnel, label
    assert ">Wend" not in svg(html, "chart-countries")
    assert countries.name("IE") in svg(html, "chart-countries")
    assert "Sent by the platform" in svg(html, "chart-channels")
    assert "75–100 %" in svg(html, "chart-own-words")
    assert "Letter saved" in svg(html, "chart-days")


def test_an_empty_campaign_has_results_too(client: Client, organisation: Any, member: Any) -> None:
    campaign = CampaignFactory(organisation=organisation, slug="quiet")
    client.force_login(member)
    html = client.get(reverse("dashboard:campaign_results", args=[campaign.slug])).content.decode()
    assert table(html, "funnel")[1:3] == [["Composer opened", "0"], ["Letter saved", "0"]]
    assert "Nobody has opened the letter form yet." in html
    assert "No letter has been sent to anyone yet." in html
    assert 'data-testid="chart-funnel"' in html


@pytest.fixture
def letter(organisation: Any, organiser: Any) -> OpenLetter:
    letter = make_open_letter(organisation)

    def add(name: str, email: str, **fields: Any) -> Any:
        return endorsing.record_confirmed(
            letter=letter, data=endorsing.EndorsementInput(name=name, email=email, **fields)
        )

    add("Siobhán O’Brien", "s@example.ie", country="IE")
    add("Tomás Ó Briain", "t@example.ie", country="IE")
    add("Quiet Person", "q@example.org", show_publicly=False)
    moderation.hide(endorsement=add("Spam Bot", "m@example.org", country="JP"), reason="fake", actor=organiser)
    gone = add("Jana Nováková", "j@example.cz", country="CZ")
    endorsing.withdraw(endorsement_id=gone.pk, secret=gone.withdraw_secret)
    endorsing.endorse(letter=letter, data=endorsing.EndorsementInput(name="Not Yet", email="n@example.org"))
    letter.refresh_from_db()
    return letter


def test_an_open_letters_results(client: Client, letter: OpenLetter, member: Any) -> None:
    client.force_login(member)
    html = client.get(reverse("dashboard:open_letter_results", args=[letter.slug])).content.decode()
    assert table(html, "states")[1:] == [
        ["Confirmed", "3"],
        ["Withdrawn", "1"],
        ["Hidden", "1"],
        ["Waiting for confirmation", "1"],
    ]
    assert table(html, "countries")[1:] == [[countries.name("IE"), "2"], ["Not given", "1"]]
    # Every confirmation of the day, whatever became of it since.
    assert table(html, "days")[1:] == [[date_format(timezone.localdate(), "SHORT_DATE_FORMAT"), "5"]]
    states = svg(html, "chart-states")
    assert "Withdrawn" in states
    assert ">3<" in states
    assert countries.name("IE") in svg(html, "chart-countries")
    assert date_format(timezone.localdate(), "SHORT_DATE_FORMAT") in svg(html, "chart-days")


def test_who_may_see_results(client: Client, campaign: Any, letter: OpenLetter) -> None:
    urls = [
        reverse("dashboard:campaign_results", args=[campaign.slug]),
        reverse("dashboard:open_letter_results", args=[letter.slug]),
    ]
    for url in urls:  # anonymous: sent to sign in
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{resolve_url(settings.LOGIN_URL)}?next={url}"
    other = UserFactory(username="other-owner")
    MembershipFactory(organisation=OrganisationFactory(slug="other"), user=other, role=Role.OWNER)
    client.force_login(other)
    for url in urls:
        assert client.get(url).status_code == 404
    # A moderator follows the results (VIEW) and may do nothing else with the campaign.
    moderator = UserFactory(username="moderator")
    MembershipFactory(organisation=campaign.organisation, user=moderator, role=Role.MODERATOR)
    client.force_login(moderator)
    for url in urls:
        assert client.get(url).status_code == 200
    assert client.get(reverse("dashboard:deliveries", args=[campaign.slug])).status_code == 404
    assert client.get(reverse("dashboard:open_letter", args=[letter.slug])).status_code == 404
    index = client.get(reverse("dashboard:index")).content.decode()
    for url in urls:  # the dashboard lists them for a moderator too
        assert f'href="{url}"' in index
    page = client.get(urls[0]).content.decode()
    assert reverse("dashboard:deliveries", args=[campaign.slug]) not in page  # no link they can't use


def test_pages_link_to_the_results(client: Client, campaign: Any, letter: OpenLetter, member: Any) -> None:
    client.force_login(member)
    campaign_url = reverse("dashboard:campaign_results", args=[campaign.slug])
    letter_url = reverse("dashboard:open_letter_results", args=[letter.slug])
    index = client.get(reverse("dashboard:index")).content.decode()
    assert f'href="{campaign_url}"' in index
    assert f'href="{letter_url}"' in index
    assert 'data-testid="results-only"' not in index  # an organiser finds them in their own lists
    assert (
        f'href="{campaign_url}"' in client.get(reverse("dashboard:deliveries", args=[campaign.slug])).content.decode()
    )
    assert f'href="{letter_url}"' in client.get(reverse("dashboard:open_letter", args=[letter.slug])).content.decode()
