"""Who uses the dashboard in these tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import MembershipFactory, UserFactory
from undersigned.organisations.models import Role


@pytest.fixture
def member(organisation: Any) -> Any:
    """An organiser by membership only: staff, not a superuser."""
    user = UserFactory(username="member-organiser", is_staff=True)
    MembershipFactory(organisation=organisation, user=user, role=Role.ORGANISER)
    return user
