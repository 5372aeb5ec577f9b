"""Each web worker keeps a campaign between requests; an organiser's edit still shows at once.

The pages ask the database for one small stamp per request (public/campaign_cache.py);
these tests change what the stamp covers, the way the admin or an import does, and read
the pages again through the same process, so the kept copy is the one being checked.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import RecipientFactory
from undersigned.campaigns.enums import CampaignStatus
from undersigned.campaigns.models import Campaign, CampaignRecipient
from undersigned.core import abuse
from undersigned.letters.models import Letter

pytestmark = pytest.mark.django_db


def _page(client: Client, campaign: Any) -> str:
    response = client.get(reverse("public:campaign", args=[campaign.slug]))
    assert response.status_code == 200
    return response.content.decode()


def _composer(client: Client, campaign: Any) -> str:
    response = client.get(reverse("public:compose", args=[campaign.slug]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_kept_campaign_costs_one_query_per_page(client: Client, campaign: Any) -> None:
    _page(client, campaign)
    _composer(client, campaign)
    with CaptureQueriesContext(connection) as page:
        _page(client, campaign)
    with CaptureQueriesContext(connection) as composer:
        _composer(client, campaign)
    assert (len(page), len(composer)) == (1, 1)
    assert "letters_letter" not in page.captured_queries[0]["sql"]  # never a count over letters


def test_edits_to_the_campaign_and_its_template_show_on_the_next_request(client: Client, campaign: Any) -> None:
    assert "Keep the riverside path open" in _page(client, campaign)
    campaign.title = "Keep the riverside path open for good"
    campaign.background = "Now with a **new** paragraph."
    campaign.save()
    page = _page(client, campaign)
    assert "<h1>Keep the riverside path open for good</h1>" in page
    assert "<strong>new</strong> paragraph" in page

    template = campaign.template
    template.prompts = ["What did the path give you this week?"]
    template.save()
    assert "What did the path give you this week?" in _composer(client, campaign)


def test_recipients_added_removed_reordered_or_renamed_show_on_the_next_request(client: Client, campaign: Any) -> None:
    first = campaign.recipients.get()
    assert first.name in _page(client, campaign)

    second = RecipientFactory(organisation=campaign.organisation, name="Deputy Mayor Ines Varga")
    CampaignRecipient.objects.create(campaign=campaign, recipient=second, position=1)
    page = _page(client, campaign)
    assert page.index(first.name) < page.index("Deputy Mayor Ines Varga")

    link = CampaignRecipient.objects.get(campaign=campaign, recipient=first)
    link.position = 2
    link.save()
    page = _page(client, campaign)
    assert page.index("Deputy Mayor Ines Varga") < page.index(first.name)

    second.name = "Mayor Ines Varga"
    second.save()
    assert "It goes to <strong>Mayor Ines Varga</strong>" in _composer(client, campaign)

    CampaignRecipient.objects.filter(campaign=campaign, recipient=second).delete()
    assert "Ines Varga" not in _page(client, campaign)


def test_the_counter_is_live_and_closing_or_drafting_takes_effect_at_once(client: Client, campaign: Any) -> None:
    assert 'data-testid="letters-sent">0</strong> letters sent' in _page(client, campaign)
    Campaign.objects.filter(pk=campaign.pk).update(letters_sent=1234)
    assert 'data-testid="letters-sent">1,234</strong> letters sent' in _page(client, campaign)

    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.CLOSED)
    assert "not taking letters any more" in _page(client, campaign)
    composer = _composer(client, campaign)
    assert "not taking letters any more" in composer
    assert 'name="body"' not in composer

    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.DRAFT)
    assert client.get(reverse("public:campaign", args=[campaign.slug])).status_code == 404
    assert client.get(reverse("public:compose", args=[campaign.slug])).status_code == 404


def test_a_renamed_organisation_shows_on_the_next_request(client: Client, campaign: Any) -> None:
    assert f"for {campaign.organisation.name}." in _page(client, campaign)
    organisation = campaign.organisation
    organisation.name = "Wend Valley Walkers"
    organisation.save()
    assert "for Wend Valley Walkers." in _page(client, campaign)


def test_each_fresh_composer_gets_its_own_key_token_time_and_nonce(campaign: Any, organiser: Any) -> None:
    def values(page: str, response: Any) -> tuple[str, ...]:
        key = re.search(r'name="submission_key" value="([^"]+)"', page)
        started = re.search(r'name="form_started" value="([^"]+)"', page)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        nonces = set(re.findall(r'nonce="([^"]+)"', page))
        assert key is not None
        assert started is not None
        assert token is not None
        assert len(nonces) == 1
        (nonce,) = nonces
        assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
        assert abuse._started_at(started.group(1)) is not None
        return key.group(1), started.group(1), token.group(1), nonce

    first_client, second_client = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    pages = []
    for client in (first_client, second_client):
        response = client.get(reverse("public:compose", args=[campaign.slug]))
        pages.append(values(response.content.decode(), response))
    assert all(a != b for a, b in zip(*pages, strict=True))  # nothing shared between visitors
    assert "Dashboard" not in _composer(first_client, campaign)

    key, started, token, _nonce = pages[0]
    data = {
        "csrfmiddlewaretoken": token,
        "submission_key": key,
        "form_started": started,
        "homepage": "",
        "name": "Ana Ruiz",
        "email": "ana.ruiz@example.net",
        "town": "Wendmouth",
        "country": "GB",
        "postal_address": "",
        "subject": campaign.template.subject,
        "body": campaign.template.body + "\n\nMy son walks this path to school every morning.",
        "action": "continue",
    }
    assert first_client.post(reverse("public:compose", args=[campaign.slug]), data).status_code == 302
    assert str(Letter.objects.get().submission_key) == key

    staff = Client()
    staff.force_login(organiser)
    assert "Dashboard" in _composer(staff, campaign)  # the kept page is per kind of visitor
    assert "Dashboard" not in _composer(second_client, campaign)


def test_the_kept_campaign_page_follows_the_clock_the_counter_and_the_nonce(campaign: Any, organiser: Any) -> None:
    campaign.deadline = timezone.now() + datetime.timedelta(days=10, hours=1)
    campaign.save()
    client = Client()
    first = client.get(reverse("public:campaign", args=[campaign.slug]))
    assert "Closes in <strong>1\xa0week, 3\xa0days</strong>" in first.content.decode()
    Campaign.objects.filter(pk=campaign.pk).update(letters_sent=1)
    second = client.get(reverse("public:campaign", args=[campaign.slug]))
    page = second.content.decode()
    assert 'data-testid="letters-sent">1</strong> letter sent so far' in page
    # A visitor without a session gets the page every visitor gets: no nonce at all
    # (core/shared_pages.py); a signed-in one a fresh nonce per response, matching its header.
    for response in (first, second):
        assert "nonce" not in response.content.decode()
        assert "nonce" not in response["Content-Security-Policy"]
    staff = Client()
    staff.force_login(organiser)
    signed_in = [staff.get(reverse("public:campaign", args=[campaign.slug])) for _ in range(2)]
    nonces = {re.findall(r'nonce="([^"]+)"', r.content.decode())[0] for r in signed_in}
    assert len(nonces) == 2
    for response in signed_in:
        nonce = re.findall(r'nonce="([^"]+)"', response.content.decode())[0]
        assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]

    Campaign.objects.filter(pk=campaign.pk).update(deadline=timezone.now() + datetime.timedelta(days=2, hours=1))
    assert "Closes in <strong>2\xa0days</strong>" in _page(client, campaign)
    Campaign.objects.filter(pk=campaign.pk).update(deadline=timezone.now() - datetime.timedelta(minutes=1))
    page = _page(client, campaign)
    assert "Closed on" in page
    assert "not taking letters any more" in page
