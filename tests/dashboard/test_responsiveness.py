"""Who replies: letters, replies and median days to a reply per recipient and per member
of a group (section), in the workspace and, when the organisers choose, on the public
campaign page: counts only, from the kept tallies, the same number of queries whatever
the number of letters."""

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

from tests.campaigns.conftest import make_group_campaign
from tests.factories import (
    CampaignFactory,
    LetterFactory,
    MembershipFactory,
    OrganisationFactory,
    RecipientFactory,
    UserFactory,
)
from tests.tallies.recount import kept_campaign, recount_campaign
from undersigned.campaigns.enums import Channel
from undersigned.delivery import replies
from undersigned.delivery.models import Reply
from undersigned.delivery.services import delete_letters, record_delivery
from undersigned.delivery.tallies import rebuild_campaign
from undersigned.letters.models import Letter
from undersigned.organisations.models import Role

pytestmark = pytest.mark.django_db

SECRET = "Ana Quillon wrote this private reply text"


@pytest.fixture
def client_of(member: Any) -> Client:
    client = Client()
    client.force_login(member)
    return client


def answered(campaign: Any, recipient: Any, *, days: float | None, name: str = "Writer") -> Letter:
    """A letter sent to ``recipient``; answered ``days`` after it went (None: no answer)."""
    letter = LetterFactory(campaign=campaign, sender_name=name)
    record_delivery(letter=letter, recipient=recipient, channel=Channel.MAILTO)
    sent_at = timezone.now() - datetime.timedelta(days=100)
    Letter.objects.filter(pk=letter.pk).update(sent_at=sent_at)
    letter.refresh_from_db()
    if days is not None:
        reply = replies.record_supporter_reply(letter=letter, recipient=recipient, text=SECRET, may_quote=False)
        Reply.objects.filter(pk=reply.pk).update(received_at=sent_at + datetime.timedelta(days=days))
        rebuild_campaign(campaign.pk)  # the arrival moved by hand: count again, as a repair would
    return letter


def _rows(page: str, testid: str) -> list[list[str]]:
    table = re.search(rf'data-testid="{testid}">(.*?)</table>', page, re.S)
    assert table, testid
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)[1:]
    return [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)] for r in rows
    ]


def test_the_median_days_come_from_the_kept_tally(organisation: Any) -> None:
    quick, slow = (RecipientFactory(organisation=organisation, name=n) for n in ("Amal Haddad", "Rowan Ashby"))
    campaign = CampaignFactory(organisation=organisation, recipients=[quick, slow])
    for days in (1.2, 3.5, 10.9, None):
        answered(campaign, quick, days=days)
    for days in (20.0, 40.0):
        answered(campaign, slow, days=days)
    answered(campaign, slow, days=None)
    assert kept_campaign(campaign.pk) == recount_campaign(campaign.pk)
    with CaptureQueriesContext(connection) as captured:
        rows = replies.responsiveness(campaign.pk)
    assert len(captured) == 3  # letters by recipient, the reply tallies, the names: no replies read
    assert "delivery_reply" not in " ".join(q["sql"] for q in captured.captured_queries)
    assert [(r.name, r.letters, r.replied, r.median_days) for r in rows] == [
        ("Amal Haddad", 4, 3, 3.0),  # whole days 1, 3, 10
        ("Rowan Ashby", 3, 2, 30.0),  # 20 and 40
    ]
    # A reply recorded through the services moves the tally as it goes; erasing moves it back.
    letter = answered(campaign, quick, days=None)
    replies.record_supporter_reply(letter=letter, recipient=quick, text="Thanks", may_quote=False)
    assert kept_campaign(campaign.pk) == recount_campaign(campaign.pk)
    assert replies.erase_replies(letter_ids=[letter.pk]) == 1
    delete_letters(letter_ids=[letter.pk])
    assert kept_campaign(campaign.pk) == recount_campaign(campaign.pk)


def test_the_median_of_counts() -> None:
    assert replies.median_of_counts({}) is None
    assert replies.median_of_counts({4: 1}) == 4
    assert replies.median_of_counts({1: 1, 3: 1}) == 2
    assert replies.median_of_counts({0: 2, 7: 1, 30: 5}) == 30
    assert replies.median_of_counts({2: 2, 9: 2}) == 5.5


def test_the_workspace_shows_replies_member_by_member(client_of: Client, organisation: Any) -> None:
    campaign = make_group_campaign(organisation)
    germany = campaign.recipients.get(name="Section of Germany")
    italy = campaign.recipients.get(name="Section of Italy")
    for days in (2, 6):
        answered(campaign, germany, days=days)
    answered(campaign, italy, days=None)
    coverage = client_of.get(reverse("dashboard:campaign_coverage", args=[campaign.slug])).content.decode()
    assert _rows(coverage, "member-responsiveness") == [
        ["Section of France", "0", "0", "—"],  # nobody wrote to them: a section all the same
        ["Section of Germany", "2", "2", "4.0"],
        ["Section of Italy", "1", "0", "—"],
    ]
    results = client_of.get(reverse("dashboard:campaign_results", args=[campaign.slug])).content.decode()
    assert _rows(results, "responsiveness")[0] == ["Section of Germany", "2", "2", "4.0"]
    assert "Only your organisation sees this table" in results


def test_another_organisation_sees_neither_table(organisation: Any) -> None:
    campaign = make_group_campaign(organisation)
    answered(campaign, campaign.recipients.get(name="Section of Germany"), days=3)
    outsider = UserFactory(username="b-owner")
    MembershipFactory(organisation=OrganisationFactory(slug="organisation-b"), user=outsider, role=Role.OWNER)
    client = Client()
    client.force_login(outsider)
    for name in ("dashboard:campaign_coverage", "dashboard:campaign_results"):
        response = client.get(reverse(name, args=[campaign.slug]))
        assert response.status_code == 404
        assert "Section of Germany" not in response.content.decode()


def test_the_public_page_shows_responsiveness_only_when_chosen(organisation: Any) -> None:
    first, second = (RecipientFactory(organisation=organisation, name=n) for n in ("Amal Haddad", "Rowan Ashby"))
    campaign = CampaignFactory(organisation=organisation, slug="path", recipients=[first, second])
    answered(campaign, first, days=5, name="Quillon")
    url = reverse("public:campaign", args=[campaign.slug])
    client = Client()
    off = client.get(url).content.decode()
    assert 'data-testid="responsiveness"' not in off
    assert "Who replies" not in off

    campaign.responsiveness_public = True
    campaign.save()  # moves the stamp: the kept page is made again
    on = client.get(url).content.decode()
    assert _rows(on, "responsiveness") == [["Amal Haddad", "1", "1", "5.0"], ["Rowan Ashby", "0", "0", "—"]]
    assert SECRET not in on
    assert "Quillon" not in on  # nothing of who wrote

    # The next reply shows at once: the counts are part of the kept page's key.
    answered(campaign, second, days=9)
    again = client.get(url).content.decode()
    assert _rows(again, "responsiveness")[1] == ["Rowan Ashby", "1", "1", "9.0"]

    campaign.responsiveness_public = False
    campaign.save()
    assert 'data-testid="responsiveness"' not in client.get(url).content.decode()


def _page_queries(client: Client, url: str) -> int:
    client.get(url)  # the kept page made
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    assert "delivery_reply" not in " ".join(q["sql"] for q in captured.captured_queries)
    assert "letters_letter" not in " ".join(q["sql"] for q in captured.captured_queries)
    return len(captured)


def test_the_public_table_costs_the_same_queries_for_few_letters_as_for_many(organisation: Any) -> None:
    campaign = make_group_campaign(organisation)
    campaign.responsiveness_public = True
    campaign.save()
    germany = campaign.recipients.get(name="Section of Germany")
    url = reverse("public:campaign", args=[campaign.slug])
    answered(campaign, germany, days=2)
    few = _page_queries(Client(), url)
    for n in range(12):
        answered(campaign, germany, days=n % 5, name=f"W{n}")
        answered(campaign, campaign.recipients.get(name="Section of Italy"), days=None, name=f"V{n}")
    many = _page_queries(Client(), url)
    assert few == many
    page = Client().get(url).content.decode()
    assert _rows(page, "responsiveness") == [
        ["Section of France", "0", "0", "—"],
        ["Section of Germany", "13", "13", "2.0"],
        ["Section of Italy", "12", "0", "—"],
    ]
