"""The moderation queue: approve, hide with a reason, restore, block; every act in the audit log."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import CampaignFactory, MembershipFactory, OrganisationFactory, UserFactory
from undersigned.core.models import ActionLog
from undersigned.discussion import services
from undersigned.discussion.links import blocked_email_hash
from undersigned.discussion.models import Block, BlockKind, Comment, CommentStatus, Discussion, Moderation
from undersigned.organisations.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def discussion(campaign: Any) -> Discussion:
    discussion = services.discussion_for(campaign)
    discussion.moderation = Moderation.PRE
    discussion.save()
    return discussion


@pytest.fixture
def moderator(organisation: Any) -> Any:
    """A volunteer who moderates comments but does not run campaigns."""
    user = UserFactory(username="moderator", is_staff=True)
    MembershipFactory(organisation=organisation, user=user, role=Role.MODERATOR)
    return user


def _comment(discussion: Discussion, body: str = "Please keep it open.", **kwargs: Any) -> Comment:
    return services.post_comment(
        discussion=discussion,
        parent=None,
        data=services.CommentInput(name="Ana Ruiz", email="ana.ruiz@example.net", body=body),
        submission_key=uuid.uuid4(),
        ip_hash="a" * 32,
        verified_email=True,
        **kwargs,
    )


def _act(client: Client, comment: Comment, action: str, **data: str) -> Any:
    return client.post(reverse("dashboard:moderation_act", args=[comment.pk]), {"action": action, **data})


def _actions(comment: Comment) -> list[str]:
    return list(
        ActionLog.objects.filter(object_type="discussion.comment", object_id=str(comment.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_a_moderator_approves_hides_and_restores(client: Client, discussion: Discussion, moderator: Any) -> None:
    comment = _comment(discussion)
    client.force_login(moderator)
    queue = client.get(reverse("dashboard:moderation")).content.decode()
    assert "Please keep it open." in queue
    assert "Waiting for a moderator — The discussion is pre-moderated" in queue

    response = _act(client, comment, "approve")
    assert response.status_code == 302
    comment.refresh_from_db()
    assert comment.status == CommentStatus.PUBLISHED
    discussion.refresh_from_db()
    assert discussion.comment_count == 1
    assert "Nothing waits for you" in client.get(reverse("dashboard:moderation")).content.decode()

    refused = _act(client, comment, "hide", reason="")
    assert refused.status_code == 400
    assert "Say why you hide it" in refused.content.decode()
    _act(client, comment, "hide", reason="Personal attack")
    comment.refresh_from_db()
    assert (comment.status, comment.hidden_reason) == (CommentStatus.HIDDEN, "Personal attack")
    discussion.refresh_from_db()
    assert discussion.comment_count == 0
    hidden = client.get(reverse("dashboard:moderation") + "?show=hidden").content.decode()
    assert "Hidden because: Personal attack" in hidden

    _act(client, comment, "restore", show="hidden")
    comment.refresh_from_db()
    assert comment.status == CommentStatus.PUBLISHED
    assert _actions(comment) == ["comment.posted", "comment.approved", "comment.hidden", "comment.restored"]
    log = ActionLog.objects.get(action="comment.hidden")
    assert log.actor == moderator
    assert "Personal attack" not in str(log.data)  # reasons stay on the comment, not in the log's data


def test_blocking_records_the_block_and_the_act(client: Client, discussion: Discussion, moderator: Any) -> None:
    comment = _comment(discussion)
    client.force_login(moderator)
    _act(client, comment, "block_email")
    _act(client, comment, "block_ip")
    _act(client, comment, "block_ip")  # twice is once
    # The address is kept only as a keyed hash, with a masked hint for moderators.
    assert sorted(Block.objects.values_list("kind", "value", "hint")) == [
        (BlockKind.EMAIL, blocked_email_hash("ana.ruiz@example.net"), "a•••@e•••.net"),
        (BlockKind.IP, "a" * 32, ""),
    ]
    assert not Block.objects.filter(value__contains="ana").exists()
    assert _actions(comment).count("comment.author_blocked") == 2


def test_other_organisations_comments_do_not_exist_for_a_moderator(
    client: Client, discussion: Discussion, moderator: Any
) -> None:
    other = CampaignFactory(organisation=OrganisationFactory(slug="elsewhere"), slug="elsewhere-campaign")
    elsewhere = services.discussion_for(other)
    elsewhere.moderation = Moderation.PRE
    elsewhere.save()
    theirs = _comment(elsewhere, body="Not yours to judge.")
    client.force_login(moderator)
    assert "Not yours to judge." not in client.get(reverse("dashboard:moderation")).content.decode()
    assert _act(client, theirs, "approve").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == CommentStatus.PENDING


def test_people_without_dashboard_access_cannot_moderate(client: Client, discussion: Discussion, stranger: Any) -> None:
    comment = _comment(discussion)
    assert client.get(reverse("dashboard:moderation")).status_code == 302  # to sign in
    client.force_login(stranger)
    assert client.get(reverse("dashboard:moderation")).status_code == 403
    assert _act(client, comment, "approve").status_code == 403
    comment.refresh_from_db()
    assert comment.status == CommentStatus.PENDING


def test_a_long_queue_comes_a_page_at_a_time_and_acting_keeps_the_page(
    client: Client, discussion: Discussion, moderator: Any
) -> None:
    comments = [_comment(discussion, body=f"Comment number {n}.") for n in range(53)]
    client.force_login(moderator)
    url = reverse("dashboard:moderation")
    first = client.get(url).content.decode()
    assert "53 comments to look at; these are 1 to 50, the oldest first." in first
    assert "Comment number 0." in first
    assert "Comment number 49." in first
    assert "Comment number 50." not in first
    assert '<a href="?page=2" rel="next">Next page</a>' in first

    second = client.get(url, {"page": "2"}).content.decode()
    assert [n for n in range(53) if f"Comment number {n}." in second] == [50, 51, 52]
    assert "Page 2 of 2" in second

    # Acting on a comment of page 2 comes back to page 2.
    response = _act(client, comments[51], "approve", page="2")
    assert response["Location"] == url + "?page=2"
    # A page that is not a number, or past the end, shows the nearest page.
    assert "Comment number 52." in client.get(url, {"page": "99"}).content.decode()
    assert "Comment number 0." in client.get(url, {"page": "x"}).content.decode()
    assert _act(client, comments[0], "approve", page="<script>")["Location"] == url

    # Hidden comments page too, the most recently hidden first.
    for comment in comments[:52]:
        services.hide_comment(comment=comment, actor=moderator, reason="Off topic")
    hidden = client.get(url, {"show": "hidden"}).content.decode()
    assert "52 comments hidden; these are 1 to 50, the most recently hidden first." in hidden
    assert '<a href="?show=hidden&amp;page=2" rel="next">Next page</a>' in hidden
    hidden_two = client.get(url, {"show": "hidden", "page": "2"}).content.decode()
    assert hidden_two.count('name="action" value="restore"') == 2
    response = _act(client, comments[0], "restore", show="hidden", page="2")
    assert response["Location"] == url + "?show=hidden&page=2"
