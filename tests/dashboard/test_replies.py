"""A campaign's replies in the workspace: the responsiveness table on the results page
(from the kept tallies and the Reply rows), the replies page, and approving a quote."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.dashboard.test_results import table
from tests.factories import CampaignFactory, LetterFactory, MembershipFactory, RecipientFactory, UserFactory
from undersigned.campaigns.enums import Channel
from undersigned.delivery.models import Reply
from undersigned.delivery.replies import record_supporter_reply, responsiveness
from undersigned.delivery.services import record_delivery
from undersigned.letters.models import Letter
from undersigned.organisations.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def council(organisation: Any) -> Any:
    chair = RecipientFactory(organisation=organisation, name="Councillor Rowan Ashby")
    member = RecipientFactory(organisation=organisation, name="Dr Amal Haddad")
    campaign = CampaignFactory(organisation=organisation, slug="council", recipients=[chair, member])
    letters = [LetterFactory(campaign=campaign) for _ in range(4)]
    for letter in letters:
        record_delivery(letter=letter, recipient=chair, channel=Channel.MAILTO)
    record_delivery(letter=letters[0], recipient=member, channel=Channel.WEB_FORM)
    record_delivery(letter=letters[0], recipient=member, channel=Channel.MAILTO)  # one letter by two ways
    now = timezone.now()
    for days, letter in zip((2, 6, 10), letters, strict=False):
        Letter.objects.filter(pk=letter.pk).update(sent_at=now - datetime.timedelta(days=days))
        letter.refresh_from_db()
    record_supporter_reply(letter=letters[0], recipient=chair, text="Thank you, Ana.", may_quote=True)
    record_supporter_reply(letter=letters[1], recipient=chair, text="We will look again.", may_quote=False)
    record_supporter_reply(letter=letters[2], recipient=chair, text="Noted.\n<b>Regards</b>", may_quote=True)
    return campaign


def test_responsiveness_per_recipient(client: Client, council: Any, member: Any) -> None:
    rows = {row.name: row for row in responsiveness(council.pk)}
    assert (rows["Councillor Rowan Ashby"].letters, rows["Councillor Rowan Ashby"].replied) == (4, 3)
    assert rows["Councillor Rowan Ashby"].median_days == pytest.approx(6.0, abs=0.1)
    assert (rows["Dr Amal Haddad"].letters, rows["Dr Amal Haddad"].replied, rows["Dr Amal Haddad"].median_days) == (
        1,
        0,
        None,
    )

    client.force_login(member)
    html = client.get(reverse("dashboard:campaign_results", args=[council.slug])).content.decode()
    assert table(html, "responsiveness") == [
        ["Recipient", "Letters sent", "Replies", "Median days to reply"],
        ["Councillor Rowan Ashby", "4", "3", "6.0"],
        ["Dr Amal Haddad", "1", "0", "—"],
    ]
    assert "Thank you, Ana." not in html  # counts only, no reply text on the results page


def test_organisers_read_replies_and_approve_only_those_that_may_be_quoted(
    client: Client, council: Any, member: Any
) -> None:
    client.force_login(member)
    page = client.get(reverse("dashboard:campaign_replies", args=[council.slug]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "We will look again." in html
    assert "&lt;b&gt;Regards&lt;/b&gt;" in html  # escaped, never markup
    quotable = Reply.objects.get(text="Thank you, Ana.")
    private = Reply.objects.get(text="We will look again.")
    url = reverse("dashboard:approve_reply", args=[council.slug, quotable.pk])
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302  # a double click
    quotable.refresh_from_db()
    assert quotable.approved_at is not None
    assert quotable.approved_by == member
    assert client.post(reverse("dashboard:approve_reply", args=[council.slug, private.pk])).status_code == 302
    assert Reply.objects.get(pk=private.pk).approved_at is None  # the supporter did not allow it


def test_a_member_of_another_organisation_is_refused(client: Client, council: Any) -> None:
    stranger = UserFactory(username="other-organiser")
    other = CampaignFactory(slug="elsewhere")
    MembershipFactory(organisation=other.organisation, user=stranger, role=Role.OWNER)
    client.force_login(stranger)
    reply = Reply.objects.get(text="Thank you, Ana.")
    assert client.get(reverse("dashboard:campaign_replies", args=[council.slug])).status_code == 404
    assert client.post(reverse("dashboard:approve_reply", args=[council.slug, reply.pk])).status_code == 404
    # Nor through their own campaign's address.
    assert client.post(reverse("dashboard:approve_reply", args=[other.slug, reply.pk])).status_code == 404
    assert Reply.objects.get(pk=reply.pk).approved_at is None


def test_a_moderator_sees_the_counts_but_not_the_replies(client: Client, council: Any, organisation: Any) -> None:
    viewer = UserFactory(username="moderator")
    MembershipFactory(organisation=organisation, user=viewer, role=Role.MODERATOR)
    client.force_login(viewer)
    html = client.get(reverse("dashboard:campaign_results", args=[council.slug])).content.decode()
    assert table(html, "responsiveness")[1] == ["Councillor Rowan Ashby", "4", "3", "6.0"]
    assert 'data-testid="replies-link"' not in html
    assert client.get(reverse("dashboard:campaign_replies", args=[council.slug])).status_code == 404
