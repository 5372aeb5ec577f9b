"""Reading and writing comments through the HTTP client, as a person would."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.discussion.conftest import form_fields, known_here, page_url, post_comment
from undersigned.core.models import ActionLog
from undersigned.discussion import services
from undersigned.discussion.links import confirm_token
from undersigned.discussion.models import (
    Block,
    BlockKind,
    Comment,
    CommentStatus,
    Discussion,
    DiscussionMode,
    FirstComment,
    HeldReason,
    Moderation,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def known(client: Client) -> None:
    """Ana has confirmed her address before, in this browser: her comments show at once."""
    known_here(client, "ana.ruiz@example.net")


@pytest.fixture
def no_limits(settings: Any) -> None:
    """For tests that post many comments to build a big discussion."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "comment": "1000/m", "comment_email": "1000/m"}


def _thread_text(client: Client, discussion: Discussion) -> str:
    html = client.get(page_url(discussion)).content.decode()
    start, end = html.index('<div class="thread" id="thread">'), html.index('id="comment-form"')
    return html[start:end]


def test_a_known_commenter_is_published_at_once_with_name_time_and_text(
    client: Client, discussion: Discussion, known: None
) -> None:
    response = post_comment(client, discussion, body="The path is *safer* than the road.", notify_replies="on")
    comment = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{page_url(discussion)}#comment-{comment.pk}"
    assert comment.status == CommentStatus.PUBLISHED
    html = client.get(page_url(discussion)).content.decode()
    assert "<bdi>Ana Ruiz</bdi>" in html
    assert "<p>The path is <em>safer</em> than the road.</p>" in html
    assert f'<time datetime="{comment.created_at.replace(microsecond=0).isoformat()}"' in html
    assert "now</span>" in html or "now<span" in html  # relative time ("now", "a minute ago")
    assert "ana.ruiz@example.net" not in html  # the address is never shown
    discussion.refresh_from_db()
    assert discussion.comment_count == 1
    assert "1 comment." in html
    assert ActionLog.objects.filter(action="comment.posted", object_id=str(comment.pk)).count() == 1


def test_the_exact_date_is_in_the_title_and_for_screen_readers(
    client: Client, discussion: Discussion, known: None
) -> None:
    post_comment(client, discussion)
    comment = Comment.objects.get()
    three_years_ago = timezone.now() - datetime.timedelta(days=3 * 365 + 2)
    Comment.objects.filter(pk=comment.pk).update(created_at=three_years_ago)
    html = client.get(page_url(discussion)).content.decode()
    exact = three_years_ago.strftime("%-d %B %Y, %H:%M")
    assert f'title="{exact} UTC">3' in html
    assert f'<span class="visually-hidden">, on {exact} UTC</span>' in html
    assert "years ago" in html


def test_a_reply_shows_under_its_parent(client: Client, discussion: Discussion, known: None) -> None:
    post_comment(client, discussion, body="First!")
    parent = Comment.objects.get()
    reply_page = client.get(page_url(discussion) + f"?reply={parent.pk}").content.decode()
    assert "Reply to <bdi>Ana Ruiz</bdi>" in reply_page
    known_here(client, "ben@example.org")
    post_comment(client, discussion, reply_to=parent.pk, name="Ben Okoro", email="ben@example.org", body="Agreed.")
    reply = Comment.objects.exclude(pk=parent.pk).get()
    assert (reply.parent_id, reply.thread_root_id, reply.depth) == (parent.pk, parent.pk, 1)
    thread = _thread_text(client, discussion)
    assert thread.index(f'id="comment-{parent.pk}"') < thread.index(f'id="comment-{reply.pk}"')
    assert f'<li class="comment indent-1" id="comment-{reply.pk}">' in thread
    assert '<span class="visually-hidden">in reply to <bdi>Ana Ruiz</bdi></span>' in thread


def test_a_first_comment_waits_for_the_email_link_and_a_get_never_confirms(
    client: Client, discussion: Discussion
) -> None:
    assert discussion.first_comment == FirstComment.CONFIRM_EMAIL  # the default
    response = post_comment(client, discussion, body="Unknown so far.")
    assert response["Location"] == page_url(discussion) + "?sent=confirm#comment-form"
    page = client.get(response["Location"]).content.decode()
    assert "we have emailed you a link" in page
    comment = Comment.objects.get()
    assert comment.status == CommentStatus.UNCONFIRMED
    assert "Unknown so far." not in _thread_text(client, discussion)

    url = reverse("public:comment_confirm", args=[confirm_token(comment.pk)])
    shown = client.get(url).content.decode()
    assert "Confirm my comment" in shown
    comment.refresh_from_db()
    assert comment.status == CommentStatus.UNCONFIRMED  # a mail scanner's GET confirms nothing
    done = client.post(url).content.decode()
    assert "Your comment is published." in done
    comment.refresh_from_db()
    assert comment.status == CommentStatus.PUBLISHED
    assert "Unknown so far." in _thread_text(client, discussion)
    # Known from now on: the next comment shows at once.
    post_comment(client, discussion, body="Second one.")
    assert Comment.objects.get(body="Second one.").status == CommentStatus.PUBLISHED


def test_a_tampered_confirm_link_is_refused(client: Client, discussion: Discussion) -> None:
    post_comment(client, discussion)

    token = confirm_token(Comment.objects.get().pk)
    response = client.post(reverse("public:comment_confirm", args=[token[:-2] + "xx"]))
    assert response.status_code == 404
    assert Comment.objects.get().status == CommentStatus.UNCONFIRMED


def test_where_moderators_approve_first_comments_the_next_one_waits_unless_the_browser_confirmed(
    client: Client, discussion: Discussion, organiser: Any
) -> None:
    discussion.first_comment = FirstComment.MODERATOR
    discussion.save()
    page = client.get(page_url(discussion)).content.decode()
    assert "A moderator reads your first comment before it is shown." in page
    response = post_comment(client, discussion, body="Hello there.")
    assert response["Location"].endswith("?sent=moderation#comment-form")
    comment = Comment.objects.get()
    assert (comment.status, comment.held_reason) == (CommentStatus.PENDING, HeldReason.FIRST_COMMENT)
    services.approve_comment(comment=comment, actor=organiser)
    # An approval proves nothing about who holds the mailbox: anyone could type it.
    post_comment(client, discussion, body="And again.")
    again = Comment.objects.get(body="And again.")
    assert (again.status, again.held_reason) == (CommentStatus.PENDING, HeldReason.FIRST_COMMENT)
    known_here(client, "ana.ruiz@example.net")  # this browser confirmed the address by link
    post_comment(client, discussion, body="Third time.")
    assert Comment.objects.get(body="Third time.").status == CommentStatus.PUBLISHED


def test_pre_moderation_hides_every_comment_until_approved(
    client: Client, discussion: Discussion, known: None, organiser: Any
) -> None:
    discussion.moderation = Moderation.PRE
    discussion.save()
    post_comment(client, discussion, body="Please read me first.")
    comment = Comment.objects.get()
    assert (comment.status, comment.held_reason) == (CommentStatus.PENDING, HeldReason.PRE_MODERATION)
    assert "Please read me first." not in _thread_text(client, discussion)
    client.force_login(organiser)
    queue = client.get(reverse("dashboard:moderation")).content.decode()
    assert "Please read me first." in queue
    client.post(reverse("dashboard:moderation_act", args=[comment.pk]), {"action": "approve"})
    client.logout()
    assert "Please read me first." in _thread_text(client, discussion)


def test_comments_with_many_links_wait_for_a_moderator(client: Client, discussion: Discussion, known: None) -> None:
    body = "Cheap pills https://a.example https://b.example [c](https://c.example)"
    post_comment(client, discussion, body=body)
    comment = Comment.objects.get()
    assert (comment.status, comment.held_reason) == (CommentStatus.PENDING, HeldReason.LINKS)
    post_comment(client, discussion, body="Map: https://wendmouth.example/map")
    assert Comment.objects.get(body__startswith="Map").status == CommentStatus.PUBLISHED


def test_a_blocked_email_cannot_post(client: Client, discussion: Discussion, known: None, organiser: Any) -> None:
    post_comment(client, discussion, body="Rude words.")
    services.block_commenter(comment=Comment.objects.get(), kind=BlockKind.EMAIL, actor=organiser)
    # Another spelling of the same Gmail mailbox is the same person.
    known_here(client, "troll@gmail.com")
    first = Comment.objects.get()
    Comment.objects.filter(pk=first.pk).update(email="Troll@gmail.com", email_key="troll@gmail.com")
    services.block_commenter(comment=Comment.objects.get(), kind=BlockKind.EMAIL, actor=organiser)
    for email in ("ana.ruiz@example.net", "T.roll+again@gmail.com"):
        response = post_comment(client, discussion, email=email, body="Let me back in.", ip="198.51.100.9")
        assert response.status_code == 403
        assert "The moderators of this discussion have stopped comments from you." in response.content.decode()
        assert 'value="T.roll+again@gmail.com"' in response.content.decode() or email != "T.roll+again@gmail.com"
    assert not Comment.objects.filter(body="Let me back in.").exists()


def test_a_blocked_ip_hash_cannot_post(client: Client, discussion: Discussion, known: None, organiser: Any) -> None:
    post_comment(client, discussion, body="Spam.", ip="192.0.2.44")
    block = services.block_commenter(comment=Comment.objects.get(), kind=BlockKind.IP, actor=organiser)
    assert block is not None
    assert block.value != "192.0.2.44"
    assert len(block.value) == 32
    response = post_comment(client, discussion, email="other@example.org", body="Spam again.", ip="192.0.2.44")
    assert response.status_code == 403
    assert Block.objects.count() == 1


def test_a_burst_from_one_address_is_limited_with_a_human_message(
    client: Client, discussion: Discussion, known: None, settings: Any
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "comment": "3/m"}
    statuses = [post_comment(client, discussion, body=f"Comment {n}").status_code for n in range(4)]
    assert statuses == [302, 302, 302, 429]
    response = post_comment(client, discussion, body="One more, typed with care.")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    html = response.content.decode()
    assert "please wait" in html
    assert "Nothing you typed is lost." in html
    assert "One more, typed with care.</textarea>" in html
    assert Comment.objects.count() == 3


def test_a_burst_from_one_email_is_limited_across_addresses(
    client: Client, discussion: Discussion, known: None, settings: Any
) -> None:
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "comment_email": "2/h"}
    statuses = [
        post_comment(client, discussion, body=f"Comment {n}", ip=f"203.0.113.{n + 10}").status_code for n in range(3)
    ]
    assert statuses == [302, 302, 429]


def test_the_honeypot_catches_a_naive_bot(client: Client, discussion: Discussion, known: None) -> None:
    response = post_comment(client, discussion, homepage="https://cheap-pills.example", body="Buy now")
    assert response.status_code == 400
    assert "hidden anti-spam field was filled in" in response.content.decode()
    assert Comment.objects.count() == 0


def test_a_bot_that_skips_the_form_is_refused(client: Client, discussion: Discussion, known: None) -> None:
    fields = form_fields(client.get(page_url(discussion)).content.decode())
    fields.update({"name": "Bot", "email": "ana.ruiz@example.net", "body": "x", "form_started": "forged"})
    response = client.post(page_url(discussion), fields)
    assert response.status_code == 400
    assert Comment.objects.count() == 0


def test_a_double_submission_makes_one_comment(client: Client, discussion: Discussion, known: None) -> None:
    fields = form_fields(client.get(page_url(discussion)).content.decode())
    fields.update({"name": "Ana Ruiz", "email": "ana.ruiz@example.net", "body": "Once only."})
    first = client.post(page_url(discussion), fields)
    second = client.post(page_url(discussion), fields)
    assert first["Location"] == second["Location"]
    assert Comment.objects.count() == 1


def test_errors_show_next_to_the_field_and_keep_what_was_typed(client: Client, discussion: Discussion) -> None:
    response = post_comment(client, discussion, name="Siobhán O'Brien", email="siobhan@", body="   ")
    html = response.content.decode()
    assert response.status_code == 400
    assert '<p class="field-error" id="id_email_error"><strong>Error:</strong> Enter an email address' in html
    assert '<p class="field-error" id="id_body_error"><strong>Error:</strong> Write something before you post.' in html
    assert 'value="Siobhán O&#x27;Brien"' in html
    too_long = post_comment(client, discussion, body="x" * 5001).content.decode()
    assert "Your comment is too long: 5001 characters, the limit is 5000." in too_long
    assert Comment.objects.count() == 0


def test_a_closed_discussion_shows_comments_but_takes_none(client: Client, discussion: Discussion, known: None) -> None:
    post_comment(client, discussion, body="Before the deadline.")
    fields = form_fields(client.get(page_url(discussion)).content.decode())
    campaign = discussion.campaign
    assert campaign is not None
    campaign.deadline = timezone.now() - datetime.timedelta(minutes=1)
    campaign.save()
    html = client.get(page_url(discussion)).content.decode()
    assert "Before the deadline." in html
    assert "Comments are closed" in html
    assert 'class="comment-form"' not in html
    fields.update({"name": "Ana Ruiz", "email": "ana.ruiz@example.net", "body": "Too late."})
    response = client.post(page_url(discussion), fields)
    assert response.status_code == 409
    assert not Comment.objects.filter(body="Too late.").exists()


def test_a_discussion_switched_off_is_not_shown(client: Client, discussion: Discussion) -> None:
    discussion.mode = DiscussionMode.OFF
    discussion.save()
    campaign = discussion.campaign
    assert campaign is not None
    page = client.get(reverse("public:campaign", args=[campaign.slug])).content.decode()
    assert "discussion-heading" not in page
    assert client.get(page_url(discussion)).status_code == 404


def test_a_comment_never_counts_as_a_letter_or_signature(client: Client, discussion: Discussion, known: None) -> None:
    campaign = discussion.campaign
    assert campaign is not None
    post_comment(client, discussion, body="I support this!")
    campaign.refresh_from_db()
    assert campaign.letters_sent == 0
    page = client.get(reverse("public:campaign", args=[campaign.slug])).content.decode()
    assert 'data-testid="letters-sent">0</strong>' in page
    assert "Comments are not signatures: they never count as support." in page


def test_a_reader_report_reaches_the_moderation_queue(
    client: Client, discussion: Discussion, known: None, organiser: Any
) -> None:
    post_comment(client, discussion, body="Something nasty.")
    comment = Comment.objects.get()
    url = reverse("public:comment_report", args=[discussion.pk, comment.pk])
    assert f'href="{url}"' in client.get(page_url(discussion)).content.decode()
    assert "Report this comment" in client.get(url).content.decode()
    response = client.post(url, {"reason": "Insults a neighbour by name."}, REMOTE_ADDR="198.51.100.1")
    assert "The moderators will look at this comment." in response.content.decode()
    client.post(url, {"reason": "again"}, REMOTE_ADDR="198.51.100.1")  # one report per reader counts
    comment.refresh_from_db()
    assert comment.open_reports == 1
    client.force_login(organiser)
    queue = client.get(reverse("dashboard:moderation")).content.decode()
    assert "Something nasty." in queue
    assert "reported 1 time" in queue
    assert "Insults a neighbour by name." in queue


def test_the_campaign_page_loads_the_comments_separately_at_a_fixed_cost(
    client: Client, discussion: Discussion, known: None, no_limits: None
) -> None:
    campaign = discussion.campaign
    assert campaign is not None
    url = reverse("public:campaign", args=[campaign.slug])
    client.get(url)  # warm: sessions, the discussion row
    with CaptureQueriesContext(connection) as empty:
        client.get(url)
    for n in range(25):
        post_comment(client, discussion, body=f"Comment number {n}")
    with CaptureQueriesContext(connection) as full:
        page = client.get(url).content.decode()
    assert len(full) == len(empty)
    assert not [q for q in full.captured_queries if "discussion_comment" in q["sql"]]
    assert f'data-hx-get="/d/{discussion.pk}/comments/"' in page
    assert "Read the 25 comments and join in" in page


def test_a_page_of_threads_costs_the_same_queries_however_many_comments(
    client: Client, discussion: Discussion, known: None, no_limits: None
) -> None:
    url = reverse("public:discussion_comments", args=[discussion.pk])
    post_comment(client, discussion, body="Root")
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    root = Comment.objects.get()
    for n in range(30):
        post_comment(client, discussion, body=f"Thread {n}")
        post_comment(client, discussion, reply_to=root.pk, body=f"Reply {n}")
    with CaptureQueriesContext(connection) as big:
        html = client.get(url).content.decode()
    assert len(big) == len(small)
    assert html.count('class="comment indent-0"') == 10  # one page of threads
    assert "Older comments" in html
    # Following "Older comments" to the end shows every thread once, replies with their root.
    pages = [html]
    while older := re.search(r'href="([^"]+\?before=\d+)#thread"', pages[-1]):
        pages.append(client.get(older.group(1)).content.decode())
    everything = "".join(pages)
    assert len(pages) == 4
    assert everything.count('class="comment indent-0"') == 31
    assert everything.count('class="comment indent-1"') == 30
    assert "<p>Reply 29</p>" in pages[-1]


def test_with_proof_of_work_on_a_comment_needs_a_solved_challenge(
    client: Client, discussion: Discussion, known: None
) -> None:
    discussion.pow_required = True
    discussion.save()
    page = client.get(page_url(discussion)).content.decode()
    assert "<altcha-widget" in page
    response = post_comment(client, discussion, body="No puzzle solved.")
    assert response.status_code == 400
    assert "The anti-spam check did not finish." in response.content.decode()
    assert Comment.objects.count() == 0


def test_odd_ids_in_urls_and_forms_are_ignored_or_not_found(
    client: Client, discussion: Discussion, known: None
) -> None:
    huge = "9" * 30
    assert client.get(f"/d/{huge}/").status_code == 404
    assert client.get(f"/d/{discussion.pk}/report/{huge}/").status_code == 404
    page = client.get(page_url(discussion) + f"?reply={huge}&before=²").content.decode()
    assert "Write a comment</h2>" in page
    response = post_comment(client, discussion, parent=huge, body="Still fine.")
    assert response.status_code == 400
    assert "Ensure this value is less than or equal to" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_worker_deletes_comments_never_confirmed_while_their_link_worked(
    client: Client, campaign: Any, run_worker: Any
) -> None:
    discussion = services.discussion_for(campaign)
    post_comment(client, discussion, email="forgot@example.net", body="Never confirmed.")
    post_comment(client, discussion, email="late@example.net", body="Still within the week.")
    known_here(client, "ana.ruiz@example.net")
    post_comment(client, discussion, body="Published long ago.")
    long_ago = timezone.now() - datetime.timedelta(days=8)
    Comment.objects.exclude(body="Still within the week.").update(created_at=long_ago)

    run_worker()  # a worker starting up runs housekeeping once

    assert sorted(Comment.objects.values_list("body", flat=True)) == ["Published long ago.", "Still within the week."]
    assert not Comment.objects.filter(email="forgot@example.net").exists()
