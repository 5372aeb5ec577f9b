from __future__ import annotations

import re
import uuid
from html import unescape
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import reverse

from undersigned.core.emails import mailbox_identity
from undersigned.discussion.links import BROWSER_COOKIE, BROWSER_COOKIE_SALT, browser_remember
from undersigned.discussion.models import Discussion, FirstComment, KnownEmail, Moderation
from undersigned.discussion.services import discussion_for


@pytest.fixture
def discussion(campaign: Any) -> Discussion:
    return discussion_for(campaign)


@pytest.fixture
def open_door(discussion: Discussion) -> Discussion:
    """A discussion where anybody's comment shows at once (post-moderation, moderators approve first comments)."""
    discussion.first_comment = FirstComment.MODERATOR
    discussion.moderation = Moderation.POST
    discussion.save()
    return discussion


def page_url(discussion: Discussion) -> str:
    return reverse("public:discussion", args=[discussion.pk])


def form_fields(html: str) -> dict[str, str]:
    """The hidden and pre-filled inputs of the comment form, as a browser would send them."""
    form = re.search(r'<form method="post" action="[^"]*" novalidate class="comment-form">(.*?)</form>', html, re.S)
    assert form, "no comment form on the page"
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", form.group(1)):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and 'type="checkbox"' not in tag:
            fields[name.group(1)] = unescape(value.group(1)) if value else ""
    return fields


def post_comment(
    client: Client, discussion: Discussion, *, reply_to: int | None = None, ip: str = "203.0.113.7", **data: str
) -> Any:
    """Open the discussion page (or its reply form) and post the comment form as a person would."""
    url = page_url(discussion) + (f"?reply={reply_to}" if reply_to else "")
    fields = form_fields(client.get(url, REMOTE_ADDR=ip).content.decode())
    fields.update({"name": "Ana Ruiz", "email": "ana.ruiz@example.net", "body": "Keep the path open!"})
    fields.update(data)
    return client.post(page_url(discussion), fields, REMOTE_ADDR=ip)


def new_key() -> str:
    return str(uuid.uuid4())


def known_here(client: Client, email: str) -> None:
    """``email`` confirmed a comment before, from this browser: it has the signed cookie.

    The cookie is made as the confirmation page makes it, with the real signer, so the
    application reads it as its own.
    """
    key = mailbox_identity(email)
    KnownEmail.objects.get_or_create(email=key, defaults={"via": KnownEmail.Via.LINK})
    old = client.cookies.get(BROWSER_COOKIE)
    request = HttpRequest()
    request.COOKIES = {BROWSER_COOKIE: old.value} if old is not None else {}
    current = request.get_signed_cookie(BROWSER_COOKIE, default=None, salt=BROWSER_COOKIE_SALT)
    response = HttpResponse()
    response.set_signed_cookie(BROWSER_COOKIE, browser_remember(current, key), salt=BROWSER_COOKIE_SALT)
    client.cookies.update(response.cookies)
