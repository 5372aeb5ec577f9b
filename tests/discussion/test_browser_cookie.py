"""A known address publishes at once only from the browser that confirmed it.

Anyone can type someone else's address into the comment form: the address being known
is not enough. The confirmation page sets a signed cookie holding a keyed hash of the
mailbox; a later comment with that address is published at once only when it comes with
that cookie, otherwise it goes through the first-comment path again.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from undersigned.discussion.links import BROWSER_COOKIE, browser_mark, confirm_token
from undersigned.discussion.models import Comment, CommentStatus, Discussion, HeldReason, KnownEmail, Moderation

from .conftest import known_here, page_url, post_comment

pytestmark = pytest.mark.django_db

ANA = "ana.ruiz@example.net"


def _confirm_first_comment(client: Client, discussion: Discussion) -> Any:
    post_comment(client, discussion, body="My first words here.")
    first = Comment.objects.get(body="My first words here.")
    assert first.status == CommentStatus.UNCONFIRMED
    url = f"/d/confirm/{confirm_token(first.pk)}/"
    assert BROWSER_COOKIE not in client.get(url).cookies  # opening the link sets nothing
    response = client.post(url)
    assert response.status_code == 200
    first.refresh_from_db()
    assert first.status == CommentStatus.PUBLISHED
    return response


def test_the_confirming_browser_publishes_at_once_and_another_browser_confirms_again(
    client: Client, discussion: Discussion
) -> None:
    response = _confirm_first_comment(client, discussion)
    cookie = response.cookies[BROWSER_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/d/"
    assert int(cookie["max-age"]) >= 300 * 86400

    post_comment(client, discussion, body="Back again, same laptop.")
    assert Comment.objects.get(body="Back again, same laptop.").status == CommentStatus.PUBLISHED

    elsewhere = Client()
    answer = post_comment(elsewhere, discussion, body="Someone typing Ana's address.")
    assert answer["Location"] == page_url(discussion) + "?sent=confirm#comment-form"
    assert Comment.objects.get(body="Someone typing Ana's address.").status == CommentStatus.UNCONFIRMED
    assert "Someone typing" not in client.get(page_url(discussion)).content.decode()


def test_confirming_twice_changes_nothing_more(client: Client, discussion: Discussion) -> None:
    _confirm_first_comment(client, discussion)
    first = Comment.objects.get()
    again = client.post(f"/d/confirm/{confirm_token(first.pk)}/")
    assert again.status_code == 200
    assert Comment.objects.get().status == CommentStatus.PUBLISHED
    assert KnownEmail.objects.filter(email=ANA).count() == 1
    post_comment(client, discussion, body="Still me.")
    assert Comment.objects.get(body="Still me.").status == CommentStatus.PUBLISHED


def test_a_forged_or_borrowed_cookie_is_refused(client: Client, discussion: Discussion) -> None:
    KnownEmail.objects.create(email=ANA, via=KnownEmail.Via.LINK)
    # The bare hash without our signature, a tampered signature, and another mailbox's cookie.
    known_here(client, "ben@example.org")
    signed = client.cookies[BROWSER_COOKIE].value
    for value in (browser_mark(ANA), signed[:-2] + ("AA" if not signed.endswith("AA") else "BB"), signed):
        forger = Client()
        forger.cookies[BROWSER_COOKIE] = value
        body = f"Forged {len(Comment.objects.all())}"
        post_comment(forger, discussion, body=body)
        assert Comment.objects.get(body=body).status == CommentStatus.UNCONFIRMED


def test_the_cookie_keeps_a_few_mailboxes_and_pre_moderation_still_holds_everything(
    client: Client, discussion: Discussion
) -> None:
    known_here(client, ANA)
    known_here(client, "ben@example.org")
    post_comment(client, discussion, body="Ana, shared computer.")
    post_comment(client, discussion, name="Ben Okoro", email="ben@example.org", body="Ben, same computer.")
    assert set(Comment.objects.values_list("status", flat=True)) == {CommentStatus.PUBLISHED}

    discussion.moderation = Moderation.PRE
    discussion.save()
    post_comment(client, discussion, body="Held for the moderators.")
    held = Comment.objects.get(body="Held for the moderators.")
    assert (held.status, held.held_reason) == (CommentStatus.PENDING, HeldReason.PRE_MODERATION)


def test_the_cookie_holds_no_address(client: Client, discussion: Discussion) -> None:
    response = _confirm_first_comment(client, discussion)
    value = response.cookies[BROWSER_COOKIE].value
    for piece in (ANA, "ana.ruiz", "example.net", "@"):
        assert piece not in value.lower()
    header = response.cookies[BROWSER_COOKIE].output()
    assert "example" not in header.lower()
