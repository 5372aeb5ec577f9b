"""Discussion settings and the campaign's proof-of-work switch in the workspace: members
who moderate change them without the admin, the public pages show the change on the next
request, and nobody of another organisation reaches them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import CampaignFactory, MembershipFactory, OrganisationFactory, UserFactory
from tests.openletters.conftest import make_open_letter
from undersigned.campaigns.models import Campaign
from undersigned.core.models import ActionLog
from undersigned.discussion.models import Discussion, DiscussionMode, FirstComment, Moderation
from undersigned.organisations.models import Role

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def moderator(organisation: Any) -> Any:
    user = UserFactory(username="moderator-only")
    MembershipFactory(organisation=organisation, user=user, role=Role.MODERATOR)
    return user


@pytest.fixture
def other_owner(db: Any) -> Any:
    user = UserFactory(username="other-owner")
    MembershipFactory(organisation=OrganisationFactory(slug="elsewhere"), user=user, role=Role.OWNER)
    return user


def _settings(**changes: Any) -> dict[str, Any]:
    data = {
        "mode": "open",
        "close_after_deadline": "on",
        "moderation": "post",
        "first_comment": "confirm_email",
        "max_links": "2",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_an_organiser_switches_a_campaign_s_discussion_off_and_the_kept_page_follows(
    member: Any, organisation: Any
) -> None:
    campaign = CampaignFactory(organisation=organisation, slug="path")
    public_url = reverse("public:campaign", args=[campaign.slug])
    assert "Read the discussion and join in" in Client().get(public_url).content.decode()  # kept now
    organiser = _client(member)
    editor = organiser.get(reverse("dashboard:campaign_edit", args=[campaign.slug])).content.decode()
    url = reverse("dashboard:campaign_discussion", args=[campaign.slug])
    assert f'href="{url}"' in editor  # the editor links to the settings

    page = organiser.get(url)
    assert page.status_code == 200
    assert "Discussion settings" in page.content.decode()
    saved = organiser.post(url, _settings(mode="off", moderation="pre", pow_required="on"), follow=True)
    assert saved.redirect_chain == [(url, 302)]
    assert "The discussion&#x27;s settings are saved." in saved.content.decode()
    discussion = Discussion.objects.get(campaign=campaign)
    assert (discussion.mode, discussion.moderation, discussion.pow_required) == (
        DiscussionMode.OFF,
        Moderation.PRE,
        True,
    )
    log = ActionLog.objects.get(action="discussion.settings_changed")
    assert log.actor == member
    assert log.data == {"mode": "off", "moderation": "pre", "pow_required": "True"}
    assert "Discussion" not in Client().get(public_url).content.decode().split("<main", 1)[1]
    # The same settings again change nothing and log nothing.
    again = organiser.post(url, _settings(mode="off", moderation="pre", pow_required="on"), follow=True)
    assert "Nothing changed." in again.content.decode()
    assert ActionLog.objects.filter(action="discussion.settings_changed").count() == 1


def test_a_moderator_changes_an_open_letter_s_discussion(moderator: Any, organisation: Any) -> None:
    letter = make_open_letter(organisation)
    public_url = reverse("openletters:letter", args=[letter.slug])
    assert "and join in" in Client().get(public_url).content.decode()
    client = _client(moderator)
    queue = client.get(reverse("dashboard:moderation")).content.decode()
    url = reverse("dashboard:open_letter_discussion", args=[letter.slug])
    page = client.get(url)
    assert page.status_code == 200
    # A moderator does not run campaigns: no link to the editor.
    assert reverse("dashboard:open_letter_edit", args=[letter.slug]) not in page.content.decode()
    assert client.post(url, _settings(mode="closed", first_comment="moderator", max_links="0")).status_code == 302
    discussion = Discussion.objects.get(open_letter=letter)
    assert (discussion.mode, discussion.first_comment, discussion.max_links) == ("closed", FirstComment.MODERATOR, 0)
    assert "Read the discussion" in Client().get(public_url).content.decode()
    assert "and join in" not in Client().get(public_url).content.decode()
    # Now that the discussion exists, the moderation page lists it.
    queue = client.get(reverse("dashboard:moderation")).content.decode()
    assert f'href="{url}"' in queue


def test_bad_settings_are_shown_again_with_their_errors_and_nothing_is_saved(member: Any, organisation: Any) -> None:
    campaign = CampaignFactory(organisation=organisation, slug="path")
    url = reverse("dashboard:campaign_discussion", args=[campaign.slug])
    client = _client(member)
    client.get(url)
    response = client.post(url, _settings(mode="closed", moderation="sometimes", max_links="lots"))
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_max_links_error"' in page
    assert "Enter a whole number." in page
    assert 'id="id_moderation_error"' in page
    assert 'value="lots"' in page  # what was typed stays
    assert re.search(r'<input[^>]*value="closed"[^>]*checked', page)
    assert Discussion.objects.get(campaign=campaign).mode == DiscussionMode.OPEN
    too_many = client.post(url, _settings(max_links="500"))
    assert too_many.status_code == 400
    assert "Enter 20 or fewer." in too_many.content.decode()
    assert not ActionLog.objects.filter(action="discussion.settings_changed").exists()


def test_another_organisation_reaches_no_discussion_settings(other_owner: Any, organisation: Any) -> None:
    campaign = CampaignFactory(organisation=organisation, slug="path")
    letter = make_open_letter(organisation)
    client = _client(other_owner)
    for url in (
        reverse("dashboard:campaign_discussion", args=[campaign.slug]),
        reverse("dashboard:open_letter_discussion", args=[letter.slug]),
    ):
        assert client.get(url).status_code == 404
        assert client.post(url, _settings(mode="off")).status_code == 404
    assert not Discussion.objects.filter(mode=DiscussionMode.OFF).exists()
    assert not ActionLog.objects.filter(action="discussion.settings_changed").exists()
    anonymous = Client().get(reverse("dashboard:campaign_discussion", args=[campaign.slug]))
    assert anonymous.status_code == 302


def test_the_campaign_s_proof_of_work_switch(member: Any, moderator: Any, other_owner: Any, organisation: Any) -> None:
    campaign = CampaignFactory(organisation=organisation, slug="path")
    compose_url = reverse("public:compose", args=[campaign.slug])
    assert "altcha-widget" not in Client().get(compose_url).content.decode()  # kept now
    url = reverse("dashboard:campaign_pow", args=[campaign.slug])
    deliveries = _client(member).get(reverse("dashboard:deliveries", args=[campaign.slug])).content.decode()
    assert f'action="{url}"' in deliveries
    switched = _client(member).post(url, {"pow_required": "1"}, follow=True)
    assert "The proof-of-work challenge is on" in switched.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).pow_required
    assert "altcha-widget" in Client().get(compose_url).content.decode()
    log = ActionLog.objects.get(action="campaign.pow_required")
    assert (log.actor, log.data) == (member, {"required": True})
    # Moderators don't run campaigns; another organisation's owner reaches nothing.
    assert _client(moderator).post(url, {"pow_required": "0"}).status_code == 404
    assert _client(other_owner).post(url, {"pow_required": "0"}).status_code == 404
    assert Campaign.objects.get(pk=campaign.pk).pow_required
    _client(member).post(url, {"pow_required": "0"})
    assert not Campaign.objects.get(pk=campaign.pk).pow_required
    assert "altcha-widget" not in Client().get(compose_url).content.decode()
