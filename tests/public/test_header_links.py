"""The public header's links follow membership (organisations.access), not the staff flag,
and the pages kept whole in each worker never show one kind of visitor's header to another."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse

from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from tests.openletters.conftest import make_open_letter
from undersigned.organisations import access
from undersigned.organisations.models import Role

pytestmark = pytest.mark.django_db

DASHBOARD_LINK = f'href="{reverse("dashboard:index")}"'
ADMIN_LINK = f'href="{reverse("admin:index")}"'


def _signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def moderator(organisation: Any) -> Any:
    """A member who is not staff: invited people never are."""
    user = UserFactory(username="invited-moderator", is_staff=False)
    MembershipFactory(organisation=organisation, user=user, role=Role.MODERATOR)
    return user


def _pages(campaign: Any, organisation: Any) -> list[str]:
    letter = make_open_letter(organisation)
    return [
        reverse("public:campaign", args=[campaign.slug]),
        reverse("public:compose", args=[campaign.slug]),
        reverse("openletters:letter", args=[letter.slug]),
        reverse("openletters:endorse", args=[letter.slug]),
    ]


def test_a_member_who_is_not_staff_sees_the_dashboard_link(campaign: Any, organisation: Any, moderator: Any) -> None:
    member = _signed_in(moderator)
    for url in _pages(campaign, organisation):
        page = member.get(url).content.decode()
        assert DASHBOARD_LINK in page, url
        assert ">Dashboard</a>" in page, url
        assert ADMIN_LINK not in page, url  # the admin is for operators


def test_kept_pages_never_show_one_visitor_s_header_to_another(
    campaign: Any, organisation: Any, moderator: Any, organiser: Any
) -> None:
    stranger = UserFactory(username="signed-in-stranger", is_staff=True)  # staff, but a member of nothing
    other = UserFactory(username="other-organisation")
    MembershipFactory(organisation=OrganisationFactory(slug="elsewhere"), user=other, role=Role.OWNER)
    for url in _pages(campaign, organisation):
        # The member first, then an anonymous visitor: the page kept for the member is not reused …
        assert DASHBOARD_LINK in _signed_in(moderator).get(url).content.decode(), url
        anonymous = Client().get(url).content.decode()
        assert DASHBOARD_LINK not in anonymous, url
        # … nor the anonymous one for a member (of any organisation) or an operator.
        assert DASHBOARD_LINK in _signed_in(other).get(url).content.decode(), url
        operator_page = _signed_in(organiser).get(url).content.decode()
        assert DASHBOARD_LINK in operator_page, url
        assert ADMIN_LINK in operator_page, url
        assert ADMIN_LINK not in _signed_in(moderator).get(url).content.decode(), url
        assert DASHBOARD_LINK not in _signed_in(stranger).get(url).content.decode(), url
        assert DASHBOARD_LINK not in Client().get(url).content.decode(), url


def test_an_anonymous_visitor_costs_no_query(django_assert_num_queries: Any, moderator: Any) -> None:
    with django_assert_num_queries(0):
        assert access.organiser_kind(AnonymousUser()) == ""
    assert access.organiser_kind(moderator) == "member"
