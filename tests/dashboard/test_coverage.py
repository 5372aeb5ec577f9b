"""The editor's group and routing settings, and the workspace's coverage board: numbers,
sorting, countdown, and who may look."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.campaigns.conftest import make_group_campaign
from tests.dashboard.test_campaign_editor import _form
from tests.factories import LetterFactory, MembershipFactory, OrganisationFactory, UserFactory
from tests.openletters.conftest import make_open_letter
from undersigned.campaigns.enums import Channel, Routing
from undersigned.campaigns.models import Campaign, RecipientGroup
from undersigned.delivery.services import record_delivery
from undersigned.openletters.models import EndorsementCountry
from undersigned.openletters.services import endorsing
from undersigned.organisations.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_of(member: Any) -> Client:
    client = Client()
    client.force_login(member)
    return client


def test_the_editor_addresses_a_campaign_to_a_group_with_a_rule(client_of: Client, organisation: Any) -> None:
    campaign = make_group_campaign(organisation, routing=Routing.EVERY)
    group = campaign.recipient_group
    campaign.recipient_group = None
    campaign.save()
    url = reverse("dashboard:campaign_edit", args=[campaign.slug])
    page = client_of.get(url).content.decode()
    assert "twice as many letters as the middle member (the median)" in page  # "well covered" explained
    data = {
        **_form(list(campaign.recipients.all()), slug=campaign.slug),
        "recipient_group": str(group.pk),
        "routing": Routing.OWN_OR_UNREACHED,
        "well_covered_at": "5",
    }
    assert client_of.post(url, data).status_code == 302
    campaign.refresh_from_db()
    assert (campaign.recipient_group, campaign.routing, campaign.well_covered_at) == (
        group,
        Routing.OWN_OR_UNREACHED,
        5,
    )
    assert sorted(campaign.recipients.values_list("name", flat=True)) == [
        "Section of France",
        "Section of Germany",
        "Section of Italy",
    ]
    # No rule chosen: a group campaign sends each supporter to their own country's member.
    client_of.post(url, {**data, "routing": ""})
    campaign.refresh_from_db()
    assert campaign.routing == Routing.OWN_COUNTRY


def test_a_group_of_another_organisation_is_refused_beside_the_field(client_of: Client, organisation: Any) -> None:
    campaign = make_group_campaign(organisation, routing=Routing.EVERY)
    theirs = RecipientGroup.objects.create(organisation=OrganisationFactory(slug="organisation-b"), name="Theirs")
    url = reverse("dashboard:campaign_edit", args=[campaign.slug])
    data = {**_form(list(campaign.recipients.all()), slug=campaign.slug), "recipient_group": str(theirs.pk)}
    response = client_of.post(url, data)
    assert response.status_code == 400
    assert "Choose one of your organisation&#x27;s groups." in response.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).recipient_group != theirs


def _rows(page: str) -> list[list[str]]:
    table = re.search(r'data-testid="coverage-table">(.*?)</table>', page, re.S)
    assert table
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)[1:]  # below the headings
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)] for r in rows
    ]


def test_the_campaign_board_counts_members_and_votes_reached(client_of: Client, organisation: Any) -> None:
    soon = timezone.localdate() + datetime.timedelta(days=12)
    campaign = make_group_campaign(organisation, decision_date=soon)
    germany = campaign.recipients.get(name="Section of Germany")
    for _ in range(2):
        letter = LetterFactory(campaign=campaign, addressed_to=germany)
        record_delivery(letter=letter, recipient=germany, channel=Channel.MAILTO)
    url = reverse("dashboard:campaign_coverage", args=[campaign.slug])
    page = client_of.get(url).content.decode()
    assert "1 of 3 members reached — 1 of 6 votes" in page
    assert f"12 days to the vote on {soon.day} " in page
    assert _rows(page) == [
        ["Section of France", "France", "0", "2", "Not yet"],
        ["Section of Germany", "Germany", "2", "1", "Yes"],
        ["Section of Italy", "Italy", "0", "3", "Not yet"],
    ]
    assert '<th scope="col" aria-sort="ascending"><a href="?sort=-name#coverage">Member' in page
    by_letters = client_of.get(url + "?sort=-count").content.decode()
    assert _rows(by_letters)[0][0] == "Section of Germany"
    assert 'aria-sort="descending"><a href="?sort=count#coverage">Letters' in by_letters
    results = client_of.get(reverse("dashboard:campaign_results", args=[campaign.slug])).content.decode()
    assert f'href="{url}" data-testid="coverage-link"' in results


def test_the_open_letter_board_counts_endorsements_by_country(client_of: Client, organisation: Any) -> None:
    letter = make_open_letter(organisation)
    EndorsementCountry.objects.create(letter=letter, country="IE", count=4)
    EndorsementCountry.objects.create(letter=letter, country="", count=9)  # no country: nobody's
    page = client_of.get(reverse("dashboard:open_letter_coverage", args=[letter.slug])).content.decode()
    assert "1 of 3 members reached — 1 of 3 votes" in page
    assert ["Máire O&#x27;Dwyer", "Ireland", "4", "1", "Yes"] in _rows(page)
    public = Client().get(reverse("openletters:letter", args=[letter.slug])).content.decode()
    assert "1 of 3 members reached — 1 of 3 votes" in public


def test_a_campaign_without_a_group_says_so(client_of: Client, organisation: Any, campaign: Any) -> None:
    page = client_of.get(reverse("dashboard:campaign_coverage", args=[campaign.slug])).content.decode()
    assert 'data-testid="no-group"' in page


def test_every_member_may_look_and_another_organisation_may_not(organisation: Any) -> None:
    campaign = make_group_campaign(organisation)
    url = reverse("dashboard:campaign_coverage", args=[campaign.slug])
    moderator = UserFactory(username="mod")
    MembershipFactory(organisation=organisation, user=moderator, role=Role.MODERATOR)
    outsider = UserFactory(username="b-owner")
    MembershipFactory(organisation=OrganisationFactory(slug="organisation-b"), user=outsider, role=Role.OWNER)
    allowed, refused = Client(), Client()
    allowed.force_login(moderator)
    refused.force_login(outsider)
    assert allowed.get(url).status_code == 200
    assert refused.get(url).status_code == 404
    assert refused.get(reverse("dashboard:open_letter_coverage", args=["nope"])).status_code == 404


def test_the_public_open_letter_board_moves_with_a_confirmed_endorsement(organisation: Any) -> None:
    letter = make_open_letter(organisation)
    url = reverse("openletters:letter", args=[letter.slug])
    visitor = Client()
    assert "0 of 3 members reached — 0 of 3 votes" in visitor.get(url).content.decode()
    endorsing.record_confirmed(
        letter=letter,
        data=endorsing.EndorsementInput(name="Siobhán O'Brien", country="IE", email="siobhan@example.ie"),
    )
    page = visitor.get(url).content.decode()  # the kept page follows the letter's stamp
    assert "1 of 3 members reached — 1 of 3 votes" in page
    assert "siobhan@example.ie" not in page
    by_count = visitor.get(url + "?sort=-count").content.decode()
    assert 'aria-sort="descending"><a href="?sort=count#coverage">Endorsements' in by_count
