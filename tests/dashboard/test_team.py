"""The team page: owners invite people by email, change roles and remove members; the invitation link.

Every test includes someone of another organisation, who can neither see nor change
the team, its invitations or use its links.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import MembershipFactory, OrganisationFactory, UserFactory
from undersigned.core.models import ActionLog
from undersigned.organisations import services
from undersigned.organisations.emails import invitation_url
from undersigned.organisations.models import Invitation, Membership, Organisation, Role

pytestmark = pytest.mark.django_db


def member(organisation: Organisation, username: str, role: str) -> Any:
    user = UserFactory(username=username, email=f"{username}@example.org")
    MembershipFactory(organisation=organisation, user=user, role=role)
    return user


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner(organisation: Organisation) -> Any:
    return member(organisation, "olive", Role.OWNER)


@pytest.fixture
def outsider() -> Any:
    """The owner of another organisation."""
    return member(OrganisationFactory(slug="other-organisation", name="Other Organisation"), "xena", Role.OWNER)


def team_url(organisation: Organisation) -> str:
    return reverse("dashboard:team", args=[organisation.slug])


def invite_url(organisation: Organisation) -> str:
    return reverse("dashboard:team_invite", args=[organisation.slug])


def link_in(mail: Any) -> str:
    body = mail.get_body(preferencelist=("plain",)).get_content()
    found = re.search(r"http://testserver(/dashboard/invitations/\S+/)", body)
    assert found is not None, body
    return found[1]


def no_addresses_in_the_audit_log() -> None:
    for row in ActionLog.objects.all():
        assert "@" not in repr(row.data), row


def test_an_owner_invites_someone_who_signs_up_through_the_link(
    organisation: Organisation, owner: Any, outsider: Any, smtp_sink: Any
) -> None:
    organisation.name = "Friends of the Wend\r\nBcc: spam@example.net"  # typed by people: kept out of headers
    organisation.save()
    owner_client = client_for(owner)
    page = owner_client.get(team_url(organisation)).content.decode()
    assert "What each role may do" in page
    assert "Invite people, change their roles and remove them" in page  # the owner's list, from access.py
    sent = owner_client.post(invite_url(organisation), {"email": "Nadia.Haddad@example.org", "role": "moderator"})
    assert sent.status_code == 302
    assert "Invitation sent to Nadia.Haddad@example.org." in owner_client.get(sent["Location"]).content.decode()

    [mail] = smtp_sink.parsed()
    assert mail["To"] == "Nadia.Haddad@example.org"
    assert mail["Bcc"] is None  # the line break did not make a header
    [sender] = mail["From"].addresses
    assert (sender.display_name, sender.addr_spec) == (
        "Friends of the Wend Bcc: spam@example.net via Undersigned",
        "letters@undersigned.test",
    )
    assert "as Moderator" in mail.get_body(preferencelist=("plain",)).get_content()
    link = link_in(mail)

    # Someone of another organisation, signed in with their own address, cannot take it.
    stolen = client_for(outsider).post(link)
    assert stolen.status_code == 403
    assert not Membership.objects.filter(organisation=organisation, user=outsider).exists()

    visitor = Client()
    page = visitor.get(link).content.decode()
    assert 'value="Nadia.Haddad@example.org" readonly' in page
    mismatch = visitor.post(link, {"password1": "a long walk by the river", "password2": "a long walk by the sea"})
    assert mismatch.status_code == 400
    assert "The two passwords differ" in mismatch.content.decode()
    too_short = visitor.post(link, {"password1": "short", "password2": "short"})
    assert too_short.status_code == 400
    assert "too short" in too_short.content.decode()
    assert not get_user_model().objects.filter(email__iexact="nadia.haddad@example.org").exists()

    joined = visitor.post(link, {"password1": "a long walk by the river", "password2": "a long walk by the river"})
    assert joined.status_code == 302
    assert joined["Location"] == reverse("dashboard:index")
    assert "Welcome to Friends of the Wend" in visitor.get(joined["Location"]).content.decode()
    nadia = get_user_model().objects.get(email="nadia.haddad@example.org")
    assert Membership.objects.get(organisation=organisation, user=nadia).role == Role.MODERATOR
    assert EmailAddress.objects.get(user=nadia).verified  # the link proved the address

    # The same form sent again (a double click): nothing more, back to the dashboard.
    again = visitor.post(link, {"password1": "a long walk by the river", "password2": "a long walk by the river"})
    assert again.status_code == 302
    assert again["Location"] == reverse("dashboard:index")
    assert get_user_model().objects.filter(email__iexact="nadia.haddad@example.org").count() == 1
    assert Membership.objects.filter(user=nadia).count() == 1
    # Used: for anyone else the link now says so.
    used = Client().get(link)
    assert used.status_code == 410
    assert "This invitation was used already" in used.content.decode()

    # Nadia signs in at the account pages with the password she chose, without confirming her address again.
    fresh = Client()
    signed_in = fresh.post(
        reverse("account_login"), {"login": "nadia.haddad@example.org", "password": "a long walk by the river"}
    )
    assert signed_in.status_code == 302, re.findall(r"(?s)<ul class=\"errorlist.*?</ul>", signed_in.content.decode())
    assert signed_in["Location"] == reverse("dashboard:index")

    actions = list(ActionLog.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["invitation.created", "user.created", "membership.created", "invitation.accepted"]
    no_addresses_in_the_audit_log()


def test_inviting_an_address_again_sends_a_new_link_and_keeps_one_invitation(
    organisation: Organisation, owner: Any, smtp_sink: Any
) -> None:
    owner_client = client_for(owner)
    owner_client.post(invite_url(organisation), {"email": "lena@example.org", "role": "organiser"})
    again = owner_client.post(invite_url(organisation), {"email": "LENA@example.org", "role": "owner"})
    assert again.status_code == 302
    assert "was invited already" in owner_client.get(again["Location"]).content.decode()
    invitation = Invitation.objects.get()
    assert invitation.role == Role.OWNER
    first, second = (link_in(mail) for mail in smtp_sink.parsed())
    replaced = Client().get(first)
    assert replaced.status_code == 404
    assert "a newer invitation email replaced it" in replaced.content.decode()
    assert Client().get(second).status_code == 200
    assert [row.action for row in ActionLog.objects.order_by("id")] == ["invitation.created", "invitation.renewed"]


def test_expired_withdrawn_and_made_up_links_say_so(organisation: Organisation, owner: Any, outsider: Any) -> None:
    invitation = services.invite(organisation=organisation, email="kim@example.org", role="organiser", actor=owner)
    link = invitation_url(invitation.invitation).removeprefix("http://testserver")
    Invitation.objects.filter(pk=invitation.invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    expired = Client().get(link)
    assert expired.status_code == 410
    assert "This invitation has expired" in expired.content.decode()
    assert (
        Client()
        .post(link, {"password1": "a long walk by the river", "password2": "a long walk by the river"})
        .status_code
        == 410
    )
    assert not get_user_model().objects.filter(email="kim@example.org").exists()

    fresh = services.invite(organisation=organisation, email="kim@example.org", role="organiser", actor=owner)
    link = invitation_url(fresh.invitation).removeprefix("http://testserver")
    # Another organisation's owner cannot withdraw it, through their own organisation's address either.
    for slug in (organisation.slug, "other-organisation"):
        url = reverse("dashboard:invitation_revoke", args=[slug, fresh.invitation.pk])
        assert client_for(outsider).post(url).status_code == 404
    assert Client().get(link).status_code == 200
    withdrawn = client_for(owner).post(
        reverse("dashboard:invitation_revoke", args=[organisation.slug, fresh.invitation.pk])
    )
    assert withdrawn.status_code == 302
    gone = Client().get(link)
    assert gone.status_code == 410
    assert "This invitation was withdrawn" in gone.content.decode()

    made_up = Client().get(reverse("dashboard:invitation", args=["1.abc:not-a-signature"]))
    assert made_up.status_code == 404
    assert "This link does not work" in made_up.content.decode()


def test_a_signed_in_person_with_the_invited_address_accepts_with_one_post(
    organisation: Organisation, owner: Any, outsider: Any
) -> None:
    # Xena owns another organisation and is invited to this one too.
    result = services.invite(organisation=organisation, email="XENA@example.org", role="organiser", actor=owner)
    link = invitation_url(result.invitation).removeprefix("http://testserver")
    anonymous = Client().get(link).content.decode()
    assert "Sign in to accept" in anonymous  # an account exists: no second one
    assert 'name="password1"' not in anonymous
    xena = client_for(outsider)
    page = xena.get(link).content.decode()
    assert "Accept the invitation" in page
    accepted = xena.post(link)
    assert accepted.status_code == 302
    assert xena.post(link)["Location"] == reverse("dashboard:index")  # a second press changes nothing
    assert Membership.objects.filter(organisation=organisation, user=outsider).count() == 1
    assert Membership.objects.get(organisation=organisation, user=outsider).role == Role.ORGANISER
    assert outsider.memberships.count() == 2


def test_someone_signed_in_with_another_address_cannot_accept(organisation: Organisation, owner: Any) -> None:
    result = services.invite(organisation=organisation, email="tomas@example.org", role="owner", actor=owner)
    link = invitation_url(result.invitation).removeprefix("http://testserver")
    other = client_for(UserFactory(username="someone-else"))
    assert "You are signed in with another address" in other.get(link).content.decode()
    assert other.post(link).status_code == 403
    assert Membership.objects.filter(organisation=organisation).count() == 1


def test_the_last_owner_can_be_neither_removed_nor_demoted(
    organisation: Organisation, owner: Any, outsider: Any
) -> None:
    owner_client = client_for(owner)
    mine = owner.memberships.get()
    demote = reverse("dashboard:member_role", args=[organisation.slug, mine.pk])
    remove = reverse("dashboard:member_remove", args=[organisation.slug, mine.pk])
    refused = owner_client.post(demote, {"role": "organiser"})
    assert refused.status_code == 400
    assert "An organisation needs at least one owner" in refused.content.decode()
    assert owner_client.post(remove).status_code == 400
    mine.refresh_from_db()
    assert mine.role == Role.OWNER

    # Another organisation's owner reaches nothing of this team.
    xena = client_for(outsider)
    assert xena.get(team_url(organisation)).status_code == 404
    assert xena.post(remove).status_code == 404
    assert xena.post(demote, {"role": "moderator"}).status_code == 404
    assert xena.post(invite_url(organisation), {"email": "x@example.org", "role": "owner"}).status_code == 404
    assert "Olive" not in xena.get(reverse("dashboard:organisations")).content.decode()

    # With a second owner, the first may step down, and the second may remove them.
    second = member(organisation, "sam", Role.ORGANISER)
    theirs = second.memberships.get()
    promoted = owner_client.post(
        reverse("dashboard:member_role", args=[organisation.slug, theirs.pk]), {"role": "owner"}
    )
    assert promoted.status_code == 302
    assert owner_client.post(demote, {"role": "moderator"}).status_code == 302
    assert client_for(second).post(remove).status_code == 302
    assert list(Membership.objects.filter(organisation=organisation).values_list("user__username", "role")) == [
        ("sam", Role.OWNER)
    ]
    assert [row.action for row in ActionLog.objects.order_by("id")] == [
        "membership.role_changed",
        "membership.role_changed",
        "membership.removed",
    ]
    no_addresses_in_the_audit_log()


def test_only_owners_change_the_team(organisation: Organisation, owner: Any, outsider: Any) -> None:
    organiser = member(organisation, "ola", Role.ORGANISER)
    moderator = member(organisation, "mo", Role.MODERATOR)
    invitation = services.invite(organisation=organisation, email="p@example.org", role="owner", actor=owner).invitation
    for user in (organiser, moderator, outsider):
        client = client_for(user)
        page = client.get(team_url(organisation))
        if user is outsider:
            assert page.status_code == 404
        else:
            assert page.status_code == 200
            text = page.content.decode()
            assert "olive@example.org" in text
            assert "Owner" in text
            assert "Invite someone" not in text
            assert "p@example.org" not in text
        target = owner.memberships.get()
        attempts = [
            (invite_url(organisation), {"email": "q@example.org", "role": "owner"}),
            (reverse("dashboard:member_role", args=[organisation.slug, target.pk]), {"role": "moderator"}),
            (reverse("dashboard:member_remove", args=[organisation.slug, target.pk]), {}),
            (reverse("dashboard:invitation_revoke", args=[organisation.slug, invitation.pk]), {}),
            (reverse("dashboard:invitation_resend", args=[organisation.slug, invitation.pk]), {}),
            (reverse("dashboard:organisation_settings", args=[organisation.slug]), {"require_two_factor": "on"}),
        ]
        for url, data in attempts:
            assert client.post(url, data).status_code == 404, (user.username, url)
    assert Invitation.objects.get().revoked_at is None
    assert set(Membership.objects.filter(organisation=organisation).values_list("role", flat=True)) == {
        Role.OWNER,
        Role.ORGANISER,
        Role.MODERATOR,
    }
    assert [row.action for row in ActionLog.objects.all()] == ["invitation.created"]


def test_the_invitation_form_keeps_what_was_typed_and_says_what_is_wrong(
    organisation: Organisation, owner: Any, outsider: Any
) -> None:
    member(organisation, "already", Role.MODERATOR)
    owner_client = client_for(owner)
    bad = owner_client.post(invite_url(organisation), {"email": "not an address", "role": "moderator"})
    assert bad.status_code == 400
    page = bad.content.decode()
    assert 'value="not an address"' in page
    assert "Enter an email address like name@example.org." in page
    assert 'aria-invalid="true"' in page
    wrong_role = owner_client.post(invite_url(organisation), {"email": "a@example.org", "role": "emperor"})
    assert wrong_role.status_code == 400
    assert "Choose one of the roles listed." in wrong_role.content.decode()
    too_long = owner_client.post(invite_url(organisation), {"email": "a" * 250 + "@example.org", "role": "owner"})
    assert too_long.status_code == 400
    taken = owner_client.post(invite_url(organisation), {"email": "Already@example.org", "role": "owner"})
    assert taken.status_code == 400
    assert "already a member" in taken.content.decode()
    assert not Invitation.objects.exists()
    # The same address invited by another organisation is that organisation's business.
    assert (
        client_for(outsider)
        .post(
            reverse("dashboard:team_invite", args=["other-organisation"]), {"email": "a@example.org", "role": "owner"}
        )
        .status_code
        == 302
    )
    assert Invitation.objects.get().organisation.slug == "other-organisation"
