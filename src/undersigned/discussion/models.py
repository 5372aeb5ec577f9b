"""Discussions under campaigns (and, once they exist, open letters): threaded comments,
readers' reports, blocks and the email addresses that have proved themselves.

A comment is never an endorsement and is never counted as one: nothing here touches a
campaign's or open letter's counters.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from undersigned.core.languages import LANGUAGE_MAX_LENGTH
from undersigned.core.models import TimeStampedModel
from undersigned.organisations.models import Organisation


class DiscussionMode(models.TextChoices):
    OPEN = "open", _("Open: people can comment")
    CLOSED = "closed", _("Closed: comments stay readable, no new ones")
    OFF = "off", _("Off: no discussion is shown")


class Moderation(models.TextChoices):
    POST = "post", _("Post-moderation: comments show at once; moderators hide what breaks the rules")
    PRE = "pre", _("Pre-moderation: nothing shows before a moderator approves it")


class FirstComment(models.TextChoices):
    CONFIRM_EMAIL = "confirm_email", _("The commenter confirms their email address with a link we send")
    MODERATOR = "moderator", _("A moderator approves it")


# Kinds of owner: the model's label → the Discussion field that points to it. Another
# kind joins with an entry here, its one-to-one field below, and the check constraint.
OWNER_FIELDS = {"campaigns.campaign": "campaign", "openletters.openletter": "open_letter"}


class Discussion(TimeStampedModel):
    """The discussion of one campaign (or open letter).

    It attaches to its owner through a nullable one-to-one field per kind of owner
    (``campaign``, ``open_letter``), not a generic foreign key: a page reads its
    discussion in the same query as its owner, and the database keeps the link honest.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="discussions")
    campaign = models.OneToOneField(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.CASCADE, related_name="discussion"
    )
    open_letter = models.OneToOneField(
        "openletters.OpenLetter", null=True, blank=True, on_delete=models.CASCADE, related_name="discussion"
    )
    mode = models.CharField(max_length=10, choices=DiscussionMode.choices, default=DiscussionMode.OPEN)
    close_after_deadline = models.BooleanField(
        default=True, help_text=_("No new comments once the campaign's deadline has passed.")
    )
    moderation = models.CharField(max_length=10, choices=Moderation.choices, default=Moderation.POST)
    first_comment = models.CharField(
        "first comment from an unknown email address",
        max_length=20,
        choices=FirstComment.choices,
        default=FirstComment.CONFIRM_EMAIL,
    )
    pow_required = models.BooleanField(
        "proof-of-work challenge",
        default=False,
        help_text=_("Turn on during a spam attack: browsers solve a small puzzle before a comment is accepted."),
    )
    max_links = models.PositiveSmallIntegerField(
        default=2, help_text=_("Comments with more links than this wait for a moderator.")
    )
    # Kept counter of published comments, moved with F() by the services; never counted per request.
    comment_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        constraints = [
            # Exactly one owner.
            models.CheckConstraint(
                condition=Q(campaign__isnull=False, open_letter__isnull=True)
                | Q(campaign__isnull=True, open_letter__isnull=False),
                name="discussion_has_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"Discussion of {self.owner}"

    @property
    def owner(self) -> models.Model:
        """What the discussion is about: a campaign or an open letter."""
        for field in OWNER_FIELDS.values():
            if getattr(self, f"{field}_id") is not None:
                owner: models.Model = getattr(self, field)
                return owner
        raise ValueError("A discussion without an owner")

    @property
    def owner_title(self) -> str:
        return str(getattr(self.owner, "title", ""))

    @property
    def deadline(self) -> datetime | None:
        value = getattr(self.owner, "deadline", None)
        return value if isinstance(value, datetime) else None

    @property
    def is_shown(self) -> bool:
        return self.mode != DiscussionMode.OFF

    def accepts_comments(self, now: datetime) -> bool:
        if self.mode != DiscussionMode.OPEN:
            return False
        deadline = self.deadline
        return not (self.close_after_deadline and deadline is not None and deadline <= now)


class CommentStatus(models.TextChoices):
    UNCONFIRMED = "unconfirmed", _("Waiting for its author to confirm their email address")
    PENDING = "pending", _("Waiting for a moderator")
    PUBLISHED = "published", _("Published")
    HIDDEN = "hidden", _("Hidden by a moderator")


class HeldReason(models.TextChoices):
    NONE = "", _("—")
    PRE_MODERATION = "pre_moderation", _("The discussion is pre-moderated")
    FIRST_COMMENT = "first_comment", _("First comment from this email address")
    LINKS = "links", _("Many links")


class Comment(TimeStampedModel):
    discussion = models.ForeignKey(Discussion, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    # The top comment of the thread (null for a top comment itself): a page of threads
    # loads all their replies with one query.
    thread_root = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="thread_comments"
    )
    depth = models.PositiveSmallIntegerField(default=0)
    author_name = models.CharField(max_length=settings.COMMENT_NAME_MAX_CHARS)
    # Never shown to anyone but moderators. ``email`` as typed (mail goes there);
    # ``email_key`` normalised, for block lists, known addresses and unsubscribing.
    email = models.EmailField()
    email_key = models.CharField(max_length=254)
    # The language the site spoke when they wrote (``core/languages.py``): their emails are in it.
    language = models.CharField(max_length=LANGUAGE_MAX_LENGTH, blank=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="comments"
    )
    body = models.TextField(max_length=settings.COMMENT_MAX_CHARS)
    # Rendered once when written: reading a page never runs Markdown or nh3.
    body_html = models.TextField()
    status = models.CharField(max_length=12, choices=CommentStatus.choices)
    held_reason = models.CharField(max_length=20, choices=HeldReason.choices, blank=True, default="")
    hidden_reason = models.CharField(max_length=300, blank=True)
    ip_hash = models.CharField(max_length=64, blank=True)
    notify_replies = models.BooleanField(default=False)
    # Idempotency: a double click or a resubmitted form finds the comment it made.
    submission_key = models.UUIDField(unique=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # Readers' reports not yet looked at by a moderator (kept counter).
    open_reports = models.PositiveIntegerField(default=0)
    # Claims for the emails about this comment, so a repeated task sends nothing twice.
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    reply_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # A page of threads walks this backwards: newest top comments (parent NULL) first.
            models.Index(fields=["discussion", "parent", "id"], name="comment_roots"),
            models.Index(fields=["status", "open_reports"], name="comment_queue"),
            models.Index(fields=["email_key"], name="comment_email"),
        ]

    def __str__(self) -> str:
        return f"Comment {self.pk} by {self.author_name}"

    @property
    def is_visible(self) -> bool:
        return self.status == CommentStatus.PUBLISHED


class Report(models.Model):
    """A reader says a comment breaks the rules. One per reader (IP hash) and comment."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(max_length=500, blank=True)
    ip_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["comment", "ip_hash"], name="one_report_per_reader")]

    def __str__(self) -> str:
        return f"Report on comment {self.comment_id}"


class BlockKind(models.TextChoices):
    EMAIL = "email", _("Email address (keyed hash)")
    IP = "ip", _("IP address (salted hash)")


class Block(models.Model):
    """Someone an organisation's moderators stopped from commenting in its discussions."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="comment_blocks")
    kind = models.CharField(max_length=10, choices=BlockKind.choices)
    # A keyed hash of the mailbox identity (``links.blocked_email_hash``) or a salted IP
    # hash: never an email address or an IP address in clear.
    value = models.CharField(max_length=254)
    # For an email block, the address masked (``j•••@e•••.org``), so moderators can tell blocks apart.
    hint = models.CharField(max_length=80, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "kind", "value"], name="block_once")]

    def __str__(self) -> str:
        return f"Block ({self.kind}) in {self.organisation_id}"


class KnownEmail(models.Model):
    """An address that proved itself (confirmed by link, approved by a moderator, or a
    verified account's): its next comments need no confirmation."""

    class Via(models.TextChoices):
        LINK = "link", _("Confirmed with the emailed link")
        MODERATOR = "moderator", _("First comment approved by a moderator")
        ACCOUNT = "account", _("Verified address of a signed-in account")

    email = models.EmailField(unique=True)
    via = models.CharField(max_length=10, choices=Via.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Known email ({self.via})"
