"""The discussion's emails through a real task worker and a real SMTP server (smtp_sink)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.discussion.conftest import known_here, post_comment
from undersigned.discussion.links import unsubscribe_token
from undersigned.discussion.models import Comment, CommentStatus, KnownEmail
from undersigned.discussion.services import discussion_for
from undersigned.supporters.models import ConsentPurpose, ConsentRecord


def _link(text: str, path_part: str) -> str:
    found = re.search(r"http://testserver(/d/" + path_part + r"/[^\s]+/)", text)
    assert found, text
    return found.group(1)


def test_a_first_comment_is_confirmed_from_the_emailed_link(
    campaign: Any, run_worker: Any, smtp_sink: Any, client: Client
) -> None:
    discussion = discussion_for(campaign)
    post_comment(client, discussion, name="Siobhán O'Brien", email="Siobhan@Example.ie", body="Count me in.")
    comment = Comment.objects.get()
    assert comment.status == CommentStatus.UNCONFIRMED
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)  # a repeated run sends nothing twice
    [message] = smtp_sink.parsed()
    assert message["To"] == "Siobhán O'Brien <Siobhan@Example.ie>"
    assert message["Subject"] == "Confirm your comment on “Keep the riverside path open”"
    assert str(message["From"]).endswith("<letters@undersigned.test>")
    link = _link(message.get_body().get_content(), "confirm")
    assert "Confirm my comment" in client.get(link).content.decode()
    comment.refresh_from_db()
    assert comment.status == CommentStatus.UNCONFIRMED
    client.post(link)
    comment.refresh_from_db()
    assert comment.status == CommentStatus.PUBLISHED
    assert KnownEmail.objects.filter(email="siobhan@example.ie", via=KnownEmail.Via.LINK).exists()


def test_reply_notifications_arrive_and_one_click_unsubscribes(
    campaign: Any, run_worker: Any, smtp_sink: Any, client: Client
) -> None:
    discussion = discussion_for(campaign)
    for email in ("ana.ruiz@example.net", "ben@example.org", "chen@example.org"):
        known_here(client, email)
    post_comment(client, discussion, body="Who else walks here?", notify_replies="on")
    parent = Comment.objects.get()
    assert ConsentRecord.objects.get(purpose=ConsentPurpose.REPLY_NOTIFICATIONS).granted is True
    post_comment(client, discussion, reply_to=parent.pk, name="Ben Okoro", email="ben@example.org", body="I do, daily.")
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    [message] = smtp_sink.parsed()
    assert message["To"] == "Ana Ruiz <ana.ruiz@example.net>"
    assert message["Subject"] == "Ben Okoro replied to your comment on “Keep the riverside path open”"
    body = message.get_body().get_content()
    assert "I do, daily." in body
    reply = Comment.objects.get(body="I do, daily.")
    assert f"http://testserver/d/{discussion.pk}/#comment-{reply.pk}" in body
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.fullmatch(r"<(http://testserver/d/unsubscribe/[^>]+/)>", str(message["List-Unsubscribe"]))
    assert unsubscribe
    assert _link(body, "unsubscribe") == urlsplit(unsubscribe.group(1)).path

    # A mail program's one-click POST (RFC 8058): no cookie, no CSRF token.
    mail_program = Client(enforce_csrf_checks=True)
    response = mail_program.post(
        urlsplit(unsubscribe.group(1)).path,
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    parent.refresh_from_db()
    assert parent.notify_replies is False
    latest = ConsentRecord.objects.filter(purpose=ConsentPurpose.REPLY_NOTIFICATIONS).order_by("-id").first()
    assert latest is not None
    assert (latest.granted, latest.source) == (False, "unsubscribe link")

    post_comment(client, discussion, reply_to=parent.pk, name="Chen Wei", email="chen@example.org", body="Me too.")
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    assert len(smtp_sink.messages) == 1  # no more reply emails


def test_no_email_without_opting_in_or_for_replying_to_oneself(
    campaign: Any, run_worker: Any, smtp_sink: Any, client: Client
) -> None:
    discussion = discussion_for(campaign)
    known_here(client, "ana.ruiz@example.net")
    known_here(client, "ben@example.org")
    post_comment(client, discussion, body="No emails for me, thanks.")
    quiet = Comment.objects.get()
    post_comment(client, discussion, body="Tell me about replies.", notify_replies="on")
    loud = Comment.objects.get(body="Tell me about replies.")
    post_comment(client, discussion, reply_to=quiet.pk, name="Ben Okoro", email="ben@example.org", body="Hi.")
    post_comment(client, discussion, reply_to=loud.pk, body="Replying to myself.")
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)
    assert smtp_sink.messages == []


@pytest.mark.django_db
def test_the_unsubscribe_page_asks_before_it_acts(client: Client, campaign: Any) -> None:
    discussion = discussion_for(campaign)
    known_here(client, "ana.ruiz@example.net")
    post_comment(client, discussion, body="Hello", notify_replies="on")
    comment = Comment.objects.get()

    url = f"/d/unsubscribe/{unsubscribe_token(comment.pk)}/"
    assert "Stop reply emails" in client.get(url).content.decode()
    comment.refresh_from_db()
    assert comment.notify_replies is True  # a link checker's GET changes nothing
    assert client.post(f"/d/unsubscribe/{unsubscribe_token(comment.pk)}x/").status_code == 404


def test_housekeeping_resends_emails_whose_task_was_lost(
    campaign: Any, run_worker: Any, smtp_sink: Any, client: Client
) -> None:
    # The tasks are lost (a worker killed mid-send, or the connection dropped at the
    # commit): the worker's housekeeping finds the comments and queues their emails again.
    discussion = discussion_for(campaign)
    known_here(client, "ben@example.org")
    known_here(client, "ana.ruiz@example.net")
    post_comment(client, discussion, body="Who else walks here?", notify_replies="on")
    parent = Comment.objects.get()
    post_comment(client, discussion, reply_to=parent.pk, name="Ben Okoro", email="ben@example.org", body="I do.")
    post_comment(client, discussion, name="Chen Wei", email="chen@example.org", body="First time here.")
    DBTaskResult.objects.all().delete()
    six_minutes_ago = timezone.now() - timedelta(minutes=6)
    Comment.objects.update(created_at=six_minutes_ago, published_at=six_minutes_ago)
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)  # housekeeping queues both at start, then they are sent
    run_worker(UNDERSIGNED_SMTP_URL=smtp_sink.url)  # sent once: nothing goes a second time
    subjects = sorted(str(message["Subject"]) for message in smtp_sink.parsed())
    assert subjects == [
        "Ben Okoro replied to your comment on “Keep the riverside path open”",
        "Confirm your comment on “Keep the riverside path open”",
    ]
