"""A commenter's emails are in the language the site spoke to them when they wrote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.test import Client

from tests.discussion.conftest import known_here, post_comment
from tests.languages import templates_that_print_the_language
from undersigned.discussion.emails import confirmation_message, reply_message
from undersigned.discussion.models import Comment
from undersigned.discussion.services import discussion_for


def test_the_commenters_language_is_recorded_and_their_emails_are_built_in_it(
    campaign: Any, settings: Any, tmp_path: Path
) -> None:
    discussion = discussion_for(campaign)
    french = Client(HTTP_ACCEPT_LANGUAGE="fr")
    post_comment(french, discussion, body="Je marche ici chaque jour.", notify_replies="on")
    german = Client(HTTP_ACCEPT_LANGUAGE="de")
    known_here(german, "ben@example.org")
    parent = Comment.objects.get()
    post_comment(german, discussion, reply_to=parent.pk, name="Ben Okoro", email="ben@example.org", body="Ich auch.")
    reply = Comment.objects.get(body="Ich auch.")
    assert (parent.language, reply.language) == ("fr", "de")

    templates_that_print_the_language(settings, tmp_path, "discussion/email/confirm.txt", "discussion/email/reply.txt")
    assert "[language: fr]" in str(confirmation_message(parent).body)
    # The reply's notice goes to the parent's author: in their language, not the replier's.
    assert "[language: fr]" in str(reply_message(reply, parent).body)
    assert "[language: de]" in str(confirmation_message(reply).body)
    # One recorded before languages were: the site's default.
    Comment.objects.filter(pk=parent.pk).update(language="")
    parent.refresh_from_db()
    assert "[language: en]" in str(confirmation_message(parent).body)
