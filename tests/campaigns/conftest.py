"""A campaign addressed to a group of national sections, shared by the routing and coverage tests."""

from __future__ import annotations

import datetime
from typing import Any

from tests.factories import CampaignFactory, RecipientFactory
from undersigned.campaigns.enums import Routing
from undersigned.campaigns.models import RecipientGroup, RecipientGroupMember

SECTIONS = (("Section of France", "FR", 2), ("Section of Germany", "DE", 1), ("Section of Italy", "IT", 3))


def make_group_campaign(
    organisation: Any,
    *,
    routing: Routing = Routing.OWN_COUNTRY,
    decision_date: datetime.date | None = None,
    slug: str = "sections-vote",
) -> Any:
    """A live campaign to three sections (France 2 votes, Germany 1, Italy 3), routed by ``routing``."""
    group = RecipientGroup.objects.create(
        organisation=organisation, name="National sections", decision_date=decision_date
    )
    members = []
    for name, country, weight in SECTIONS:
        recipient = RecipientFactory(organisation=organisation, name=name, country=country)
        RecipientGroupMember.objects.create(group=group, recipient=recipient, vote_weight=weight)
        members.append(recipient)
    campaign = CampaignFactory(organisation=organisation, slug=slug, recipients=members)
    campaign.recipient_group = group
    campaign.routing = routing
    campaign.save()
    return campaign
