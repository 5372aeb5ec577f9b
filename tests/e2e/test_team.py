"""In Chromium: the dashboard fits a phone; an owner invites someone, who joins through the link."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import BrowserContext, Page, ViewportSize, expect

from tests.e2e.conftest import ContextFactory, assert_no_serious_violations
from tests.factories import CampaignFactory, MembershipFactory, OrganisationFactory, RecipientFactory, UserFactory
from tests.openletters.conftest import make_open_letter
from undersigned.campaigns.models import RecipientGroup, RecipientGroupMember
from undersigned.delivery.models import PrintJob
from undersigned.organisations.models import Membership, Role

pytestmark = pytest.mark.browser

PHONE: ViewportSize = {"width": 375, "height": 812}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture
def owner(organisation: Any) -> Any:
    """An owner by membership only: neither staff nor superuser."""
    user = UserFactory(username="olive-owner", email="olive@example.org", first_name="Olive", last_name="Okonjo")
    MembershipFactory(organisation=organisation, user=user, role=Role.OWNER)
    MembershipFactory(organisation=organisation, user=UserFactory(username="mo", email="mo@example.org"),
                      role=Role.MODERATOR)  # fmt: skip
    return user


def signed_in(context: BrowserContext, user: Any, live_server: Any) -> Page:
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
    return context.new_page()


def fits(page: Page, width: int) -> None:
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width}px wide"


def test_every_dashboard_page_fits_a_phone(
    new_context: ContextFactory, live_server: Any, owner: Any, organisation: Any
) -> None:
    campaign = CampaignFactory(organisation=organisation, slug="keep-the-riverside-path-open")
    letter = make_open_letter(organisation)
    PrintJob.objects.create(campaign=campaign, paper="a4", total=4, done=2, status="running")
    recipient = RecipientFactory(organisation=organisation, name="Councillor Jo Rivers-Featherstonehaugh")
    group = RecipientGroup.objects.create(organisation=organisation, name="Wendmouth Borough Council, all members")
    RecipientGroupMember.objects.create(group=group, recipient=recipient)
    page = signed_in(new_context(viewport=PHONE, bypass_csp=True), owner, live_server)
    workspace = f"/dashboard/organisations/{organisation.slug}"
    paths = [
        "/dashboard/",
        "/dashboard/moderation/",
        f"/dashboard/campaigns/{campaign.slug}/deliveries/",
        f"/dashboard/campaigns/{campaign.slug}/print/",
        f"/dashboard/open-letters/{letter.slug}/",
        f"/dashboard/organisations/{organisation.slug}/team/",
        f"/dashboard/organisations/{organisation.slug}/settings/",
        # The editor, recipients, groups, campaign files and discussion settings.
        f"{workspace}/campaigns/new/",
        f"/dashboard/campaigns/{campaign.slug}/edit/",
        f"{workspace}/open-letters/new/",
        f"/dashboard/open-letters/{letter.slug}/edit/",
        f"{workspace}/recipients/",
        f"{workspace}/recipients/new/",
        f"{workspace}/recipients/{recipient.pk}/",
        f"{workspace}/recipients/import/",
        f"{workspace}/groups/",
        f"{workspace}/groups/{group.pk}/",
        f"{workspace}/campaign-files/",
        f"/dashboard/campaigns/{campaign.slug}/discussion/",
        f"/dashboard/open-letters/{letter.slug}/discussion/",
        "/dashboard/organisations/",
    ]
    for path in paths:
        page.goto(path)
        nav = page.get_by_role("navigation", name="Dashboard")
        expect(nav.get_by_role("link", name="Team")).to_be_visible()
        expect(nav.get_by_role("button", name="Sign out")).to_be_visible()
        fits(page, PHONE["width"])
        assert_no_serious_violations(page)
    # Where a member is sent while their organisation requires two-factor they haven't set up.
    organisation.require_two_factor = True
    organisation.save()
    page.goto("/dashboard/")
    assert page.url.endswith("/dashboard/two-factor/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    fits(page, PHONE["width"])
    assert_no_serious_violations(page)


def test_an_owner_invites_and_the_invited_person_joins(
    new_context: ContextFactory, live_server: Any, owner: Any, organisation: Any, smtp_sink: Any
) -> None:
    OrganisationFactory(slug="other-organisation", name="Other Organisation")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = signed_in(new_context(viewport=PHONE, bypass_csp=True), owner, live_server)
    page.goto("/dashboard/")
    page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Team").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Team of Friends of the River Wend")
    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter an email address like name@example.org.")
    expect(page.get_by_label("Email address")).to_have_value("not an address")
    page.get_by_label("Email address").fill("nadia.haddad@example.org")
    page.get_by_label("Role", exact=True).select_option("moderator")
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.get_by_role("status")).to_contain_text("Invitation sent to nadia.haddad@example.org.")
    fits(page, PHONE["width"])
    assert_no_serious_violations(page)
    page.screenshot(path=str(SCREENSHOTS / "team-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(SCREENSHOTS / "team-desktop.png"), full_page=True)

    [mail] = smtp_sink.parsed()
    link = re.search(r"http://testserver(/dashboard/invitations/\S+/)", mail.get_body().get_content())
    assert link is not None
    newcomer = new_context(viewport=PHONE, bypass_csp=True).new_page()
    newcomer.goto(link[1])
    expect(newcomer.get_by_role("heading", level=1)).to_have_text("Join Friends of the River Wend")
    assert_no_serious_violations(newcomer)
    newcomer.get_by_label("Choose a password").fill("a long walk by the river")
    newcomer.get_by_label("The password again").fill("a long walk by the river")
    newcomer.screenshot(path=str(SCREENSHOTS / "invitation-phone.png"), full_page=True)
    newcomer.get_by_role("button", name="Create the account and join").click()
    expect(newcomer).to_have_url(re.compile(r"/dashboard/$"))
    expect(newcomer.get_by_role("status")).to_contain_text("Welcome to Friends of the River Wend")
    assert Membership.objects.get(user__email="nadia.haddad@example.org").role == Role.MODERATOR
    newcomer.screenshot(path=str(SCREENSHOTS / "dashboard-phone.png"), full_page=True)
    newcomer.set_viewport_size(DESKTOP)
    newcomer.screenshot(path=str(SCREENSHOTS / "dashboard-desktop.png"), full_page=True)
    # She signs out with the button in the navigation.
    newcomer.get_by_role("button", name="Sign out").click()
    newcomer.goto("/dashboard/")
    expect(newcomer).to_have_url(re.compile(r"/accounts/login/\?next=/dashboard/$"))
    newcomer.screenshot(path=str(SCREENSHOTS / "sign-in-desktop.png"), full_page=True)


def test_the_sign_in_page_and_two_factor_pages_look_like_the_site(
    organiser_page: Callable[..., Page], new_context: ContextFactory
) -> None:
    page = new_context(viewport=PHONE, bypass_csp=True).new_page()
    page.goto("/accounts/login/?next=/dashboard/")
    expect(page.get_by_role("link", name="Undersigned")).to_be_visible()
    fits(page, PHONE["width"])
    assert_no_serious_violations(page)
    page.screenshot(path=str(SCREENSHOTS / "sign-in-phone.png"), full_page=True)

    account = organiser_page(viewport=PHONE, bypass_csp=True)
    account.goto("/accounts/2fa/")
    expect(account.get_by_role("navigation", name="Dashboard")).to_be_visible()
    expect(account.get_by_role("navigation", name="Your account")).to_be_visible()
    fits(account, PHONE["width"])
    assert_no_serious_violations(account)
    account.screenshot(path=str(SCREENSHOTS / "two-factor-phone.png"), full_page=True)
    account.set_viewport_size(DESKTOP)
    account.screenshot(path=str(SCREENSHOTS / "two-factor-desktop.png"), full_page=True)
