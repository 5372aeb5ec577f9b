"""Commenting with an account: social login through allauth's offline "dummy" provider.

The dummy provider stands in for a real social or OpenID Connect provider (configured
only by settings: UNDERSIGNED_SOCIAL_PROVIDERS); the whole flow runs without network.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.discussion.conftest import form_fields, page_url
from undersigned.discussion.models import Comment, CommentStatus, KnownEmail
from undersigned.discussion.services import discussion_for

pytestmark = pytest.mark.django_db


def _social_login(client: Client, next_url: str, **profile: str) -> Any:
    start = client.post(f"/accounts/dummy/login/?next={next_url}")
    assert start.status_code == 302
    assert start["Location"].startswith("/accounts/dummy/authenticate/?state=")
    form = client.get(start["Location"]).content.decode()
    assert "Dummy Provider Login" in form
    return client.post(start["Location"], profile)


def test_social_login_creates_an_account_that_can_comment(client: Client, campaign: Any) -> None:
    discussion = discussion_for(campaign)
    done = _social_login(
        client,
        page_url(discussion),
        id="4711",
        email="mina.okafor@example.org",
        email_verified="on",
        first_name="Mina",
        last_name="Okafor",
    )
    assert done.status_code == 302
    assert done["Location"] == page_url(discussion)
    user = get_user_model().objects.get(email="mina.okafor@example.org")
    page = client.get(page_url(discussion)).content.decode()
    assert "You comment as <strong>mina.okafor@example.org</strong>" in page
    assert 'name="email"' not in page  # the account's address is used
    fields = form_fields(page)
    assert fields["name"] == "Mina Okafor"
    fields["body"] = "Signed in and saying so."
    response = client.post(page_url(discussion), fields)
    comment = Comment.objects.get()
    assert response["Location"] == f"{page_url(discussion)}#comment-{comment.pk}"
    # A verified account needs no emailed confirmation.
    assert (comment.status, comment.user, comment.email) == (CommentStatus.PUBLISHED, user, user.email)
    assert KnownEmail.objects.get(email="mina.okafor@example.org").via == KnownEmail.Via.ACCOUNT


def test_an_unverified_address_must_be_verified_before_the_account_signs_in(client: Client, campaign: Any) -> None:
    discussion = discussion_for(campaign)
    done = _social_login(client, page_url(discussion), id="4712", email="unverified@example.org", first_name="Uma")
    assert done.status_code == 302
    assert done["Location"] == "/accounts/confirm-email/"
    page = client.get(page_url(discussion)).content.decode()
    assert "You comment as" not in page
    assert 'name="email"' in page  # still commenting as anyone: name, email, confirmation
