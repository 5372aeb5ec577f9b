"""Who an organisation's update reaches, and its one-click unsubscribe link (RFC 8058).

The unsubscribe POST is made by a fresh client with CSRF checks on and no cookie, as a
mail program makes it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import CampaignFactory, OrganisationFactory, SupporterFactory
from undersigned.core.security import hash_ip
from undersigned.supporters import services, updates
from undersigned.supporters.models import ConsentPurpose, ConsentRecord, Supporter

pytestmark = pytest.mark.django_db

ONE_CLICK, FORM = "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"  # RFC 8058's POST


def _agree(supporter: Supporter, campaign: Any, *, granted: bool = True) -> ConsentRecord:
    return services.record_consent(
        supporter=supporter,
        purpose=ConsentPurpose.CAMPAIGN_UPDATES,
        granted=granted,
        wording=services.campaign_updates_wording(campaign),
        source="test",
        campaign=campaign,
    )


def _emails(target: updates.Audience) -> set[str]:
    return {supporter.email for supporter in updates.audience(target)}


def _link(supporter: Supporter, organisation: Any) -> str:
    token = updates.unsubscribe_token(supporter_id=supporter.pk, organisation_id=organisation.pk)
    return reverse("public:update_unsubscribe", args=[token])


def test_only_those_whose_latest_consent_agrees(campaign: Any) -> None:
    agreed, changed_mind, never = SupporterFactory(), SupporterFactory(), SupporterFactory()
    other_campaign = CampaignFactory(organisation=campaign.organisation)
    _agree(agreed, campaign)
    _agree(changed_mind, campaign)
    _agree(changed_mind, campaign, granted=False)
    _agree(never, other_campaign)  # agreed about another campaign only
    target = updates.Audience(organisation_id=campaign.organisation_id, campaign_id=campaign.pk)
    assert _emails(target) == {agreed.email}
    assert updates.audience_size(target) == 1


def test_an_anonymised_supporter_is_out_of_every_audience(campaign: Any) -> None:
    # Anonymising keeps the consent rows (append-only) but nobody is left to write to.
    kept, gone = SupporterFactory(), SupporterFactory()
    _agree(kept, campaign)
    _agree(gone, campaign)
    services.anonymise_supporters(supporter_ids=[gone.pk])
    target = updates.Audience(organisation_id=campaign.organisation_id, campaign_id=campaign.pk)
    assert _emails(target) == {kept.email}
    assert updates.audience_size(target) == 1


def test_countries_narrow_the_audience(campaign: Any) -> None:
    gb, ie, unknown = SupporterFactory(country="GB"), SupporterFactory(country="IE"), SupporterFactory(country="")
    for supporter in (gb, ie, unknown):
        _agree(supporter, campaign)
    organisation_id = campaign.organisation_id
    assert _emails(updates.Audience(organisation_id=organisation_id, campaign_id=campaign.pk)) == {
        gb.email, ie.email, unknown.email,
    }  # fmt: skip
    only_ie = updates.Audience(organisation_id=organisation_id, campaign_id=campaign.pk, countries=frozenset({"IE"}))
    assert _emails(only_ie) == {ie.email}


def test_unsubscribed_are_left_out_until_they_agree_again(campaign: Any) -> None:
    supporter, other = SupporterFactory(), SupporterFactory()
    _agree(supporter, campaign)
    _agree(other, campaign)
    organisation = campaign.organisation
    updates.unsubscribe(supporter=supporter, organisation=organisation, wording="Stop")
    target = updates.Audience(organisation_id=organisation.pk, campaign_id=campaign.pk)
    assert _emails(target) == {other.email}
    # Unsubscribing from another organisation changes nothing here.
    updates.unsubscribe(supporter=other, organisation=OrganisationFactory(), wording="Stop")
    assert _emails(target) == {other.email}
    # Ticking the box again later (a new letter) counts.
    again = _agree(supporter, campaign)
    ConsentRecord.objects.filter(pk=again.pk).update(created_at=again.created_at + timedelta(seconds=1))
    assert _emails(target) == {supporter.email, other.email}


def test_one_click_post_without_cookies_unsubscribes_once(campaign: Any) -> None:
    supporter = SupporterFactory()
    _agree(supporter, campaign)
    organisation = campaign.organisation
    mail_program = Client(enforce_csrf_checks=True)
    path = _link(supporter, organisation)
    response = mail_program.post(path, data=ONE_CLICK, content_type=FORM)
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    assert response["Cache-Control"] == "private, no-store"
    assert not mail_program.cookies
    mail_program.post(path, data=ONE_CLICK, content_type=FORM)
    record = ConsentRecord.objects.get(purpose=ConsentPurpose.ORGANISATION_UPDATES)
    assert (record.supporter_id, record.organisation_id, record.granted) == (supporter.pk, organisation.pk, False)
    assert record.wording == updates.unsubscribe_wording(organisation)
    assert record.source == "update unsubscribe link"
    assert record.ip_hash == hash_ip("127.0.0.1")  # a salted hash, never the address
    assert not list(updates.audience(updates.Audience(organisation_id=organisation.pk, campaign_id=campaign.pk)))


def test_get_shows_the_wording_and_a_button_and_changes_nothing(client: Client, campaign: Any) -> None:
    supporter = SupporterFactory()
    organisation = campaign.organisation
    organisation.name = "Friends <b>of</b> the Wend"
    organisation.save()
    html = client.get(_link(supporter, organisation)).content.decode()
    assert "Friends &lt;b&gt;of&lt;/b&gt; the Wend" in html
    assert '<form method="post"><button type="submit">Unsubscribe</button></form>' in html
    assert not ConsentRecord.objects.exists()
    client.post(_link(supporter, organisation))
    assert "You are unsubscribed" in client.get(_link(supporter, organisation)).content.decode()


@pytest.mark.parametrize("token", ["not-a-real-token", "eyJzIjoxLCJvIjoxfQ:forged"])
def test_a_wrong_or_forged_link_unsubscribes_nobody(client: Client, campaign: Any, token: str) -> None:
    SupporterFactory()
    response = client.post(reverse("public:update_unsubscribe", args=[token]))
    assert response.status_code == 404
    assert not ConsentRecord.objects.exists()


def test_a_link_is_bound_to_its_person_and_organisation(campaign: Any) -> None:
    supporter = SupporterFactory()
    token = updates.unsubscribe_token(supporter_id=supporter.pk, organisation_id=campaign.organisation_id)
    assert updates.read_unsubscribe_token(token) == (supporter.pk, campaign.organisation_id)
    payload, signature = token.rsplit(":", 1)
    other = updates.unsubscribe_token(supporter_id=supporter.pk + 1, organisation_id=campaign.organisation_id)
    with pytest.raises(updates.UnsubscribeLinkInvalid):
        updates.read_unsubscribe_token(f"{other.rsplit(':', 1)[0]}:{signature}")
    with pytest.raises(updates.UnsubscribeLinkInvalid):
        updates.read_unsubscribe_token(f"{payload}:{other.rsplit(':', 1)[1]}")
