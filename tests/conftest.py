from __future__ import annotations

from typing import Any

import pytest

from tests.factories import CampaignFactory, MembershipFactory, OrganisationFactory, UserFactory


@pytest.fixture
def organisation(db: Any) -> Any:
    return OrganisationFactory(slug="friends-of-the-wend")


@pytest.fixture
def organiser(organisation: Any) -> Any:
    """A member who runs campaigns for the organisation, with admin access."""
    user = UserFactory(username="organiser", is_staff=True, is_superuser=True)
    MembershipFactory(organisation=organisation, user=user)
    return user


@pytest.fixture
def stranger(db: Any) -> Any:
    """A signed-in person with no membership anywhere."""
    return UserFactory(username="stranger")


@pytest.fixture
def campaign(organisation: Any) -> Any:
    return CampaignFactory(organisation=organisation, slug="keep-the-riverside-path-open")
