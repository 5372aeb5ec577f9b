"""Open letters carry the same discussion as campaigns, apart from their endorsements."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from tests.discussion.conftest import known_here, page_url, post_comment
from undersigned.discussion.models import Comment, CommentStatus, Discussion
from undersigned.discussion.services import discussion_for
from undersigned.openletters.models import OpenLetterStatus

pytestmark = pytest.mark.django_db


def test_an_open_letter_page_leads_to_its_discussion_and_a_comment_is_no_endorsement(
    client: Client, open_letter: Any
) -> None:
    letter_url = reverse("openletters:letter", args=[open_letter.slug])
    page = client.get(letter_url).content.decode()
    discussion = Discussion.objects.get(open_letter=open_letter)
    assert discussion.campaign is None
    assert 'aria-labelledby="discussion-heading"' in page
    assert page_url(discussion) in page
    assert "Comments are not signatures" in page

    known_here(client, "ana.ruiz@example.net")
    endorsements_before = open_letter.endorsements.count()
    response = post_comment(client, discussion, body="I would sign this twice if I could.")
    assert response.status_code == 302
    assert Comment.objects.get().status == CommentStatus.PUBLISHED

    thread = client.get(page_url(discussion)).content.decode()
    assert "I would sign this twice if I could." in thread
    assert f'href="{letter_url}"' in thread  # back to the letter the discussion is about
    open_letter.refresh_from_db()
    assert open_letter.endorsements.count() == endorsements_before
    assert "1 comment" in client.get(letter_url).content.decode()


def test_a_draft_open_letters_discussion_is_not_public(client: Client, open_letter: Any) -> None:
    discussion = discussion_for(open_letter)
    open_letter.status = OpenLetterStatus.DRAFT
    open_letter.save()
    assert client.get(page_url(discussion)).status_code == 404


def test_a_discussion_belongs_to_exactly_one_owner(open_letter: Any, campaign: Any) -> None:
    discussion_for(campaign)
    with pytest.raises(IntegrityError), transaction.atomic():
        Discussion.objects.create(organisation=open_letter.organisation, campaign=None, open_letter=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Discussion.objects.create(organisation=open_letter.organisation, campaign=campaign, open_letter=open_letter)
