"""Organisers sign in at the account pages (/accounts/login/), reset a forgotten password,
sign out, and use two-factor sign-in (TOTP, allauth.mfa), which an owner may require."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import reverse

from tests.factories import CampaignFactory, MembershipFactory, OrganisationFactory, UserFactory
from tests.totp import hotp, totp
from undersigned.core.models import ActionLog
from undersigned.organisations import access
from undersigned.organisations.access import Action
from undersigned.organisations.models import Organisation, Role

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def verified_member(username: str, organisation: Organisation, role: str = Role.ORGANISER) -> Any:
    user = UserFactory(username=username, email=f"{username}@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    MembershipFactory(organisation=organisation, user=user, role=role)
    return user


def sign_in(client: Client, email: str, password: str = PASSWORD, next_url: str = "") -> Any:
    url = reverse("account_login") + (f"?next={next_url}" if next_url else "")
    page = client.get(url)
    assert page.status_code == 200
    return client.post(url, {"login": email, "password": password})


def activate_totp(client: Client, password: str = PASSWORD) -> str:
    """Set up an authenticator app the way a person does: confirm the password, read the secret, type its code."""
    page = client.get(reverse("mfa_activate_totp"))
    if page.status_code == 302 and page["Location"].startswith(reverse("account_reauthenticate")):
        confirmed = client.post(page["Location"], {"password": password})  # allauth asks again first
        assert confirmed.status_code == 302
        page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200, page.status_code
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', page.content.decode())
    if secret is None:
        secret = re.search(r'value="([A-Z2-7]{32})"', page.content.decode())
    assert secret is not None, "the page shows the secret to type into an app"
    done = client.post(reverse("mfa_activate_totp"), {"code": totp(secret[1])})
    assert done.status_code == 302, done.content.decode()[:2000]
    return secret[1]


def test_the_totp_helper_gives_rfc_6238_codes() -> None:
    secret = base64.b32encode(b"12345678901234567890").decode()  # RFC 6238, Appendix B (SHA-1)
    assert hotp(secret, 59 // 30, digits=8) == "94287082"
    assert hotp(secret, 1111111109 // 30, digits=8) == "07081804"
    assert totp(secret, at=1234567890) == "005924"


def test_the_dashboard_sends_visitors_to_the_account_sign_in_and_back(client: Client, organisation: Any) -> None:
    member = verified_member("ines", organisation)
    asked = client.get(reverse("dashboard:moderation"))
    assert asked.status_code == 302
    assert asked["Location"] == f"{reverse('account_login')}?next=/dashboard/moderation/"
    wrong = sign_in(client, member.email, "not the password", next_url="/dashboard/moderation/")
    assert wrong.status_code == 400
    assert "not correct" in wrong.content.decode()
    done = sign_in(client, member.email, next_url="/dashboard/moderation/")
    assert done.status_code == 302
    assert done["Location"] == "/dashboard/moderation/"
    assert client.get(done["Location"]).status_code == 200


def test_a_member_lands_on_the_dashboard_and_anyone_else_on_the_home_page(client: Client, organisation: Any) -> None:
    member = verified_member("oskar", organisation)
    assert sign_in(client, member.email)["Location"] == "/dashboard/"
    supporter = UserFactory(username="supporter", email="supporter@example.org")
    EmailAddress.objects.create(user=supporter, email=supporter.email, verified=True, primary=True)
    other = Client()
    assert sign_in(other, supporter.email)["Location"] == "/"
    assert other.get(reverse("dashboard:index")).status_code == 403


def test_a_staff_flag_without_membership_opens_no_dashboard(client: Client, organisation: Any) -> None:
    staff = UserFactory(username="staff-only", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("dashboard:index")).status_code == 403
    assert client.get(reverse("dashboard:team", args=[organisation.slug])).status_code == 403


def test_the_dashboard_has_a_sign_out_button(client: Client, organisation: Any) -> None:
    member = verified_member("petra", organisation)
    sign_in(client, member.email)
    page = client.get(reverse("dashboard:index")).content.decode()
    assert f'action="{reverse("account_logout")}"' in page
    assert "Sign out" in page
    out = client.post(reverse("account_logout"))
    assert out.status_code == 302
    assert client.get(reverse("dashboard:index")).status_code == 302  # signed out: asked to sign in


def test_a_forgotten_password_is_reset_by_email(client: Client, organisation: Any, smtp_sink: Any) -> None:
    member = verified_member("rosa", organisation)
    asked = client.post(reverse("account_reset_password"), {"email": member.email})
    assert asked.status_code == 302
    [mail] = smtp_sink.parsed()
    assert mail["To"] == member.email
    body = mail.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", body)
    assert link is not None, body
    opened = client.get(link[1])
    assert opened.status_code == 302  # allauth moves the key out of the address
    form_url = opened["Location"]
    assert client.get(form_url).status_code == 200
    mismatch = client.post(form_url, {"password1": "a new long passphrase", "password2": "something else"})
    assert mismatch.status_code == 400
    done = client.post(form_url, {"password1": "a new long passphrase", "password2": "a new long passphrase"})
    assert done.status_code == 302
    fresh = Client()
    assert sign_in(fresh, member.email).status_code == 400  # the old password no longer works
    assert sign_in(fresh, member.email, "a new long passphrase")["Location"] == "/dashboard/"


def test_a_member_sets_up_two_factor_and_signs_in_with_a_code(client: Client, organisation: Any) -> None:
    member = verified_member("sara", organisation)
    sign_in(client, member.email)
    account = client.get(reverse("mfa_index")).content.decode()
    assert 'data-testid="dashboard-nav"' in account  # the account pages keep the dashboard's navigation
    secret = activate_totp(client)
    assert access.has_two_factor(member)
    client.post(reverse("account_logout"))

    fresh = Client()
    asked = sign_in(fresh, member.email, next_url="/dashboard/")
    assert asked.status_code == 302
    assert asked["Location"] == reverse("mfa_authenticate")
    assert fresh.get(reverse("dashboard:index")).status_code == 302  # not signed in until the code
    wrong_code = "000000" if totp(secret) != "000000" else "111111"
    refused = fresh.post(reverse("mfa_authenticate"), {"code": wrong_code})
    assert refused.status_code == 400
    assert "Incorrect code" in refused.content.decode()
    done = fresh.post(reverse("mfa_authenticate"), {"code": totp(secret)})
    assert done.status_code == 302
    assert done["Location"] == "/dashboard/"
    assert fresh.get("/dashboard/").status_code == 200


def test_an_owner_requires_two_factor_and_members_without_it_set_it_up_first(organisation: Any) -> None:
    owner = verified_member("olga", organisation, Role.OWNER)
    organiser = verified_member("omar", organisation, Role.ORGANISER)
    campaign = CampaignFactory(organisation=organisation, slug="the-towpath")
    other_org = OrganisationFactory(slug="other-org", name="Another Organisation")
    outsider = verified_member("xavier", other_org, Role.OWNER)
    settings_url = reverse("dashboard:organisation_settings", args=[organisation.slug])

    owner_client = Client()
    sign_in(owner_client, owner.email)
    # Not before the owner uses it themselves: they would lock themselves out.
    refused = owner_client.post(settings_url, {"require_two_factor": "on"})
    assert refused.status_code == 400
    assert "Set up two-factor sign-in for your own account first." in refused.content.decode()
    organisation.refresh_from_db()
    assert organisation.require_two_factor is False
    activate_totp(owner_client)
    saved = owner_client.post(settings_url, {"require_two_factor": "on"})
    assert saved.status_code == 302
    organisation.refresh_from_db()
    assert organisation.require_two_factor is True
    log = ActionLog.objects.get(action="organisation.two_factor_required")
    assert (log.actor, log.data) == (owner, {"required": True})
    assert owner_client.get(reverse("dashboard:index")).status_code == 200  # the owner has it

    # Someone of another organisation can neither see nor change these settings.
    outsider_client = Client()
    outsider_client.force_login(outsider)
    assert outsider_client.get(settings_url).status_code == 404
    assert outsider_client.post(settings_url, {}).status_code == 404
    organisation.refresh_from_db()
    assert organisation.require_two_factor is True

    organiser_client = Client()
    sign_in(organiser_client, organiser.email)
    for url in (reverse("dashboard:index"), reverse("dashboard:deliveries", args=[campaign.slug])):
        sent = organiser_client.get(url)
        assert sent.status_code == 302
        assert sent["Location"] == reverse("dashboard:two_factor_required")
    why = organiser_client.get(reverse("dashboard:two_factor_required")).content.decode()
    assert "Friends of the River Wend asks every member to sign in with a code" in why
    assert reverse("mfa_activate_totp") in why
    assert not access.can(organiser, Action.VIEW, organisation.pk)  # nor through any other door
    activate_totp(organiser_client)
    assert access.can(organiser, Action.RUN_CAMPAIGNS, organisation.pk)
    assert organiser_client.get(reverse("dashboard:deliveries", args=[campaign.slug])).status_code == 200
