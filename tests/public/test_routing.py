"""A supporter of a campaign addressed to a group is routed by their country: what the
composer shows and saves, what it refuses, and the coverage board on the campaign page."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.campaigns.conftest import make_group_campaign
from tests.factories import TEMPLATE_BODY, LetterFactory
from undersigned.campaigns.enums import Channel, Routing
from undersigned.delivery.models import Delivery
from undersigned.delivery.services import record_delivery
from undersigned.letters.models import Letter

pytestmark = pytest.mark.django_db


def _data(campaign: Any, **overrides: str) -> dict[str, str]:
    data = {
        "submission_key": str(uuid.uuid4()),
        "name": "Camille Martin",
        "email": "camille@example.fr",
        "town": "Lyon",
        "country": "FR",
        "postal_address": "",
        "subject": campaign.template.subject,
        "body": TEMPLATE_BODY,
        "action": "continue",
    }
    data.update(overrides)
    return data


def _compose(campaign: Any) -> str:
    return reverse("public:compose", args=[campaign.slug])


def _member(campaign: Any, name: str) -> Any:
    return campaign.recipients.get(name=name)


def _error(page: str) -> str:
    found = re.search(r'<p class="field-error" id="route-error"><strong>Error:</strong> (.*?)</p>', page)
    assert found, "no error beside the recipient"
    return found.group(1)


def test_the_composer_asks_for_the_country_then_names_the_member(client: Client, organisation: Any) -> None:
    campaign = make_group_campaign(organisation)
    page = client.get(_compose(campaign)).content.decode()
    assert "Choose your country to see who that is." in page
    # Without JavaScript: "Show whom it goes to" is a preview, the server's step.
    step = client.post(_compose(campaign), _data(campaign, action="preview")).content.decode()
    assert 'data-testid="route-text">Your letter goes to Section of France, the member for France.</p>' in step
    assert "(to Section of France)" in step  # the preview is addressed to them
    assert 'class="field-error"' not in step


def test_a_routed_letter_is_saved_to_its_member_and_sent_only_there(client: Client, organisation: Any) -> None:
    campaign = make_group_campaign(organisation)
    data = _data(campaign)
    first = client.post(_compose(campaign), data)
    again = client.post(_compose(campaign), data)  # a double click
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    letter = Letter.objects.get()
    assert letter.addressed_to == _member(campaign, "Section of France")
    send_page = client.get(first["Location"]).content.decode()
    assert "Section of France" in send_page
    assert "Section of Italy" not in send_page
    # Sending to another member is refused by the delivery service too.
    link = first["Location"].rstrip("/").rsplit("/", 1)[-1]
    refused = client.post(
        reverse("public:letter_send", args=[link]),
        {"recipient": str(_member(campaign, "Section of Italy").pk), "channel": Channel.MAILTO},
    )
    assert refused.status_code == 409
    assert "This letter is addressed to another member of the group." in refused.content.decode()
    assert not Delivery.objects.exists()


def test_a_posted_recipient_the_rule_does_not_allow_is_refused_beside_the_field(
    client: Client, organisation: Any
) -> None:
    campaign = make_group_campaign(organisation)
    italy = _member(campaign, "Section of Italy")
    response = client.post(_compose(campaign), _data(campaign, recipient=str(italy.pk)))
    assert response.status_code == 400
    page = response.content.decode()
    assert _error(page) == (
        "Your letter can&#x27;t go to that recipient from the country you gave: choose one of those listed."
    )
    assert 'value="Camille Martin"' in page  # what was typed is kept
    assert not Letter.objects.exists()
    other = client.post(_compose(campaign), _data(campaign, recipient="999999"))
    assert other.status_code == 400
    assert not Letter.objects.exists()


def test_a_well_covered_country_offers_the_unreached_and_the_supporter_picks(client: Client, organisation: Any) -> None:
    campaign = make_group_campaign(organisation, routing=Routing.OWN_OR_UNREACHED)
    france, germany, italy = (_member(campaign, f"Section of {c}") for c in ("France", "Germany", "Italy"))
    earlier = LetterFactory(campaign=campaign, sender_country="FR")
    record_delivery(letter=earlier, recipient=france, channel=Channel.MAILTO)
    # No choice made yet (no JavaScript, straight to Continue): the choices, an error beside them.
    response = client.post(_compose(campaign), _data(campaign))
    page = response.content.decode()
    assert response.status_code == 400
    assert _error(page) == "Choose whom your letter goes to."
    assert "Section of France, the member for France, has already had many letters." in page
    radios = re.findall(r'name="recipient" id="recipient-(\d+)" value="\d+"( checked)?', page)
    assert [int(pk) for pk, _ in radios] == [italy.pk, germany.pk, france.pk]  # heaviest unreached first, own last
    saved = client.post(_compose(campaign), _data(campaign, recipient=str(germany.pk)))
    assert saved.status_code == 302
    assert Letter.objects.get(sender_name="Camille Martin").addressed_to == germany


def test_every_member_keeps_todays_behaviour(client: Client, organisation: Any) -> None:
    campaign = make_group_campaign(organisation, routing=Routing.EVERY)
    page = client.get(_compose(campaign)).content.decode()
    assert 'data-testid="route"' not in page
    assert "It goes to" in page
    assert client.post(_compose(campaign), _data(campaign)).status_code == 302
    assert Letter.objects.get().addressed_to is None


def test_the_campaign_page_board_moves_when_a_letter_reaches_a_member(client: Client, organisation: Any) -> None:
    campaign = make_group_campaign(organisation)
    url = reverse("public:campaign", args=[campaign.slug])
    before = client.get(url).content.decode()
    assert "0 of 3 members reached — 0 of 6 votes" in before
    letter = LetterFactory(campaign=campaign, sender_country="IT", addressed_to=_member(campaign, "Section of Italy"))
    record_delivery(letter=letter, recipient=_member(campaign, "Section of Italy"), channel=Channel.MAILTO)
    after = client.get(url).content.decode()
    assert "1 of 3 members reached — 3 of 6 votes" in after
    assert "camille" not in after.lower()
    assert letter.supporter.email not in after
    by_votes = client.get(url + "?sort=-votes").content.decode()
    names = re.findall(r'<tr><th scope="row">(Section of \w+)</th>', by_votes)
    assert names == ["Section of Italy", "Section of France", "Section of Germany"]
    assert '<th scope="col" aria-sort="descending"><a href="?sort=votes#coverage">Votes' in by_votes


def test_with_scripts_the_route_is_swapped_in_only_when_it_changes(client: Client, organisation: Any) -> None:
    campaign = make_group_campaign(organisation)
    htmx = {"HX-Request": "true"}
    changed = client.post(_compose(campaign), _data(campaign, action="preview", route_shown="no_country"), headers=htmx)
    html = changed.content.decode()
    assert 'id="preview-area"' in html
    assert 'id="route-area" class="route" data-hx-swap-oob="true"' in html
    france = _member(campaign, "Section of France").pk
    same = client.post(_compose(campaign), _data(campaign, action="preview", route_shown=f"own:{france}"), headers=htmx)
    assert 'id="route-area"' not in same.content.decode()  # a radio being picked keeps its focus
