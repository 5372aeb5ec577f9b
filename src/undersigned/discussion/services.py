"""Writes for discussions: posting, confirming, reporting, moderating, notifying.

Every write owns its transaction, records an ``ActionLog`` row (ids and enum values,
never the text or the address), keeps ``Discussion.comment_count`` in step with the
published comments, and leaves email to tasks enqueued after the commit.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.mail import mailers
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from undersigned.campaigns.models import Campaign
from undersigned.core.emails import mailbox_identity
from undersigned.core.languages import active_language
from undersigned.core.models import log_action
from undersigned.core.sanitising import comment_to_html, count_links
from undersigned.core.security import masked_email
from undersigned.openletters.models import OpenLetter
from undersigned.supporters import services as supporter_services
from undersigned.supporters.models import ConsentPurpose

from . import emails, links
from .models import (
    OWNER_FIELDS,
    Block,
    BlockKind,
    Comment,
    CommentStatus,
    Discussion,
    DiscussionMode,
    FirstComment,
    HeldReason,
    KnownEmail,
    Moderation,
    Report,
)

logger = logging.getLogger(__name__)

NOTIFY_WORDING = gettext_noop(
    "Email me when someone replies to my comments in this discussion. "
    "I can stop these emails with the link in each of them."
)


class CommentRefused(Exception):
    """Why a comment cannot be posted, in words for the person who wrote it."""


# --- Attaching a discussion -----------------------------------------------------------


def discussion_for(owner: Campaign | OpenLetter) -> Discussion:
    """The discussion of a campaign or open letter (created, open and post-moderated, on first use).

    Another kind of owner joins through ``models.OWNER_FIELDS`` and its one-to-one field.
    Reads ``owner.discussion`` first, so a caller that loaded it with
    ``select_related("discussion")`` pays no query.
    """
    try:
        discussion: Discussion = owner.discussion
    except ObjectDoesNotExist:
        pass
    else:
        return discussion
    field = OWNER_FIELDS[owner._meta.label_lower]
    try:
        with transaction.atomic():
            discussion, created = Discussion.objects.get_or_create(
                **{field: owner}, defaults={"organisation_id": owner.organisation_id}
            )
    except IntegrityError:  # created by a concurrent request
        discussion, created = Discussion.objects.get(**{field: owner}), False
    if created:
        log_action("discussion.created", discussion)
    setattr(discussion, field, owner)
    return discussion


# --- Settings -------------------------------------------------------------------------

SETTING_FIELDS = ("mode", "close_after_deadline", "moderation", "first_comment", "pow_required", "max_links")


@dataclass(frozen=True)
class DiscussionSettings:
    """What organisers and moderators choose for a discussion (the workspace's form)."""

    mode: DiscussionMode
    close_after_deadline: bool
    moderation: Moderation
    first_comment: FirstComment
    pow_required: bool
    max_links: int


def update_settings(*, discussion: Discussion, settings: DiscussionSettings, actor: Any) -> list[str]:
    """Save ``settings`` on ``discussion``; returns the names of the fields that changed.

    A change also moves its owner's ``updated_at``: the campaign's and open letter's
    public pages are kept in each worker by a stamp of their owner's row
    (``public/campaign_cache.py``, ``public/open_letter_cache.py``), so the next request
    shows the new setting everywhere.
    """
    with transaction.atomic():
        locked = Discussion.objects.select_for_update().get(pk=discussion.pk)
        changed = [name for name in SETTING_FIELDS if getattr(locked, name) != getattr(settings, name)]
        if not changed:
            return []
        for name in SETTING_FIELDS:
            setattr(locked, name, getattr(settings, name))
            setattr(discussion, name, getattr(settings, name))
        locked.save(update_fields=[*changed, "updated_at"])
        now = timezone.now()
        if locked.campaign_id is not None:
            Campaign.objects.filter(pk=locked.campaign_id).update(updated_at=now)
        if locked.open_letter_id is not None:
            OpenLetter.objects.filter(pk=locked.open_letter_id).update(updated_at=now)
        values = {name: str(getattr(settings, name)) for name in changed}
        log_action("discussion.settings_changed", locked, actor=actor, **values)
    return changed


# --- Posting ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CommentInput:
    name: str
    email: str
    body: str
    notify_replies: bool = False


def is_blocked(*, organisation_id: int, email: str, ip_hash: str) -> bool:
    wanted = [(BlockKind.EMAIL, links.blocked_email_hash(email))]
    if ip_hash:
        wanted.append((BlockKind.IP, ip_hash))
    query = Block.objects.filter(organisation_id=organisation_id)
    return any(query.filter(kind=kind, value=value).exists() for kind, value in wanted)


def _state_for_known(discussion: Discussion, body: str) -> tuple[CommentStatus, HeldReason]:
    if discussion.moderation == Moderation.PRE:
        return CommentStatus.PENDING, HeldReason.PRE_MODERATION
    if count_links(body) > discussion.max_links:
        return CommentStatus.PENDING, HeldReason.LINKS
    return CommentStatus.PUBLISHED, HeldReason.NONE


def post_comment(
    *,
    discussion: Discussion,
    parent: Comment | None,
    data: CommentInput,
    submission_key: uuid.UUID,
    ip_hash: str,
    user: Any = None,
    verified_email: bool = False,
    same_browser: bool = False,
    now: datetime | None = None,
) -> Comment:
    """Post a comment or a reply; returns the comment, published or waiting.

    ``verified_email`` is for a signed-in account whose address allauth verified.
    ``same_browser`` says the request carried the signed cookie set when this mailbox
    confirmed a comment (``links.browser_knows``): a known address counts as known only
    then, so someone typing another person's address goes through the usual first-comment
    path (the confirmation email, or a moderator) like a new address.
    The same ``submission_key`` twice returns the first comment unchanged.
    """
    existing = Comment.objects.filter(submission_key=submission_key).first()
    if existing is not None:
        return existing
    now = now or timezone.now()
    if not discussion.accepts_comments(now):
        raise CommentRefused(gettext("This discussion is closed: it takes no new comments."))
    if parent is not None and (parent.discussion_id != discussion.pk or not parent.is_visible):
        raise CommentRefused(gettext("The comment you are replying to is not shown any more."))
    email = data.email.strip()
    email_key = mailbox_identity(email)
    if is_blocked(organisation_id=discussion.organisation_id, email=email, ip_hash=ip_hash):
        raise CommentRefused(gettext("The moderators of this discussion have stopped comments from you."))

    known = verified_email or (same_browser and KnownEmail.objects.filter(email=email_key).exists())
    if known:
        status, held = _state_for_known(discussion, data.body)
    elif discussion.first_comment == FirstComment.CONFIRM_EMAIL:
        status, held = CommentStatus.UNCONFIRMED, HeldReason.NONE
    else:
        status, held = CommentStatus.PENDING, HeldReason.FIRST_COMMENT

    root_id = (parent.thread_root_id or parent.pk) if parent is not None else None
    try:
        with transaction.atomic():
            if verified_email:
                KnownEmail.objects.get_or_create(email=email_key, defaults={"via": KnownEmail.Via.ACCOUNT})
            comment = Comment.objects.create(
                discussion=discussion,
                parent=parent,
                thread_root_id=root_id,
                depth=parent.depth + 1 if parent is not None else 0,
                author_name=data.name,
                email=email,
                email_key=email_key,
                user=user if getattr(user, "is_authenticated", False) else None,
                body=data.body,
                body_html=comment_to_html(data.body),
                status=status,
                held_reason=held,
                ip_hash=ip_hash,
                notify_replies=data.notify_replies,
                language=active_language(),
                submission_key=submission_key,
                published_at=now if status == CommentStatus.PUBLISHED else None,
            )
            log_action(
                "comment.posted",
                comment,
                actor=user,
                discussion=discussion.pk,
                status=str(status),
                held=str(held),
                reply=parent is not None,
            )
            if data.notify_replies:
                _record_notify_consent(comment, granted=True, source="comment form")
            if status == CommentStatus.PUBLISHED:
                _published(comment)
            elif status == CommentStatus.UNCONFIRMED:
                _enqueue("send_confirmation", comment.pk)
    except IntegrityError:
        # The same submission raced itself (double click): the first one won.
        return Comment.objects.get(submission_key=submission_key)
    return comment


def _record_notify_consent(comment: Comment, *, granted: bool, source: str) -> None:
    supporter = supporter_services.get_or_create_supporter(email=comment.email, name=comment.author_name)
    supporter_services.record_consent(
        supporter=supporter,
        purpose=ConsentPurpose.REPLY_NOTIFICATIONS,
        granted=granted,
        wording=gettext(NOTIFY_WORDING),  # as the form showed it, in the page's language
        source=source,
        ip_hash=comment.ip_hash if granted else "",
    )


def _enqueue(task_name: str, comment_id: int) -> None:
    from . import tasks  # noqa: PLC0415 (tasks imports this module)

    task = getattr(tasks, task_name)
    # robust: the comment is saved; an email whose task is lost is queued again by
    # housekeeping (resend_unsent), so a failure here is logged, not shown as an error.
    transaction.on_commit(partial(task.enqueue, comment_id), robust=True)


def _published(comment: Comment) -> None:
    """Bookkeeping for a comment that has just become visible (inside the caller's transaction)."""
    Discussion.objects.filter(pk=comment.discussion_id).update(comment_count=F("comment_count") + 1)
    if comment.parent_id is not None and comment.reply_notified_at is None:
        _enqueue("send_reply_notification", comment.pk)


def _unpublished(comment: Comment) -> None:
    Discussion.objects.filter(pk=comment.discussion_id, comment_count__gt=0).update(
        comment_count=F("comment_count") - 1
    )


def _move(comment: Comment, *, to: CommentStatus, allowed: set[CommentStatus], **fields: Any) -> bool:
    """Change a comment's status with a conditional update; False if it had already moved."""
    now = timezone.now()
    changes: dict[str, Any] = {"status": to, "updated_at": now, **fields}
    if to == CommentStatus.PUBLISHED:
        changes.setdefault("published_at", comment.published_at or now)
    moved = Comment.objects.filter(pk=comment.pk, status__in=allowed).update(**changes)
    if not moved:
        return False
    was_published = comment.status == CommentStatus.PUBLISHED
    for name, value in changes.items():
        setattr(comment, name, value)
    if to == CommentStatus.PUBLISHED and not was_published:
        _published(comment)
    elif was_published and to != CommentStatus.PUBLISHED:
        _unpublished(comment)
    return True


def confirm_comment(*, comment: Comment) -> Comment:
    """The author followed the emailed link and pressed the button (a POST, never a GET).

    Their address is known from now on; the comment is published unless the discussion
    holds it for a moderator (pre-moderation, many links). Confirming twice does nothing more.
    """
    with transaction.atomic():
        comment = Comment.objects.select_for_update().select_related("discussion").get(pk=comment.pk)
        if comment.status != CommentStatus.UNCONFIRMED:
            return comment
        KnownEmail.objects.get_or_create(email=comment.email_key, defaults={"via": KnownEmail.Via.LINK})
        status, held = _state_for_known(comment.discussion, comment.body)
        _move(comment, to=status, allowed={CommentStatus.UNCONFIRMED}, held_reason=held)
        log_action("comment.confirmed", comment, status=str(status), held=str(held))
    return comment


def remove_unconfirmed(*, now: datetime | None = None) -> int:
    """Delete comments whose author never confirmed their address while the link worked.

    Such a comment was never shown and can no longer be confirmed; keeping it would keep
    a name, an email address and personal text for nothing. Run by the worker's
    housekeeping. Returns how many were deleted.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.COMMENT_CONFIRM_DAYS)
    deleted, _ = Comment.objects.filter(status=CommentStatus.UNCONFIRMED, created_at__lt=cutoff).delete()
    if deleted:
        logger.info("removed %d unconfirmed comments", deleted)
    return deleted


# An email not sent this long after its comment lost its task (a worker killed mid-send,
# the database connection dropped at the commit): housekeeping queues it again.
RESEND_AFTER = timedelta(minutes=5)
# Replies older than this are not worth telling anyone about any more.
REPLY_NOTICE_WINDOW = timedelta(days=1)


def resend_unsent(*, now: datetime | None = None) -> int:
    """Queue again the confirmation and reply emails whose task was lost; return how many.

    Run by the worker's housekeeping. Each email task claims its comment with a
    conditional update, so queueing one twice sends it once.
    """
    now = now or timezone.now()
    confirmations = Comment.objects.filter(
        status=CommentStatus.UNCONFIRMED,
        confirmation_sent_at__isnull=True,
        created_at__lt=now - RESEND_AFTER,
        created_at__gt=now - timedelta(days=settings.COMMENT_CONFIRM_DAYS),
    )
    replies = Comment.objects.filter(
        status=CommentStatus.PUBLISHED,
        parent__notify_replies=True,
        reply_notified_at__isnull=True,
        published_at__lt=now - RESEND_AFTER,
        published_at__gt=now - REPLY_NOTICE_WINDOW,
    )
    queued = 0
    for task_name, waiting in (("send_confirmation", confirmations), ("send_reply_notification", replies)):
        for comment_id in waiting.order_by("id").values_list("id", flat=True)[:500]:
            _enqueue(task_name, comment_id)
            queued += 1
    return queued


# --- Readers' reports ----------------------------------------------------------------------


def report_comment(*, comment: Comment, reason: str, ip_hash: str) -> bool:
    """A reader reports a comment; it appears in the moderation queue. One report per reader counts."""
    try:
        with transaction.atomic():
            report = Report.objects.create(comment=comment, reason=reason, ip_hash=ip_hash)
            Comment.objects.filter(pk=comment.pk).update(open_reports=F("open_reports") + 1)
            log_action("comment.reported", comment, report=report.pk)
    except IntegrityError:
        return False
    return True


# --- Moderation -------------------------------------------------------------------------------


def _resolve_reports(comment: Comment, now: datetime) -> None:
    Report.objects.filter(comment=comment, resolved_at__isnull=True).update(resolved_at=now)
    Comment.objects.filter(pk=comment.pk).update(open_reports=0)
    comment.open_reports = 0


def approve_comment(*, comment: Comment, actor: Any) -> Comment:
    """Publish a waiting comment, or keep a reported one and close its reports."""
    with transaction.atomic():
        comment = Comment.objects.select_for_update().get(pk=comment.pk)
        previous = CommentStatus(comment.status)
        if previous in (CommentStatus.PENDING, CommentStatus.UNCONFIRMED):
            _move(comment, to=CommentStatus.PUBLISHED, allowed={previous})
            if comment.held_reason == HeldReason.FIRST_COMMENT or previous == CommentStatus.UNCONFIRMED:
                KnownEmail.objects.get_or_create(email=comment.email_key, defaults={"via": KnownEmail.Via.MODERATOR})
        _resolve_reports(comment, timezone.now())
        log_action("comment.approved", comment, actor=actor, previous=str(previous))
    return comment


def hide_comment(*, comment: Comment, actor: Any, reason: str) -> Comment:
    with transaction.atomic():
        comment = Comment.objects.select_for_update().get(pk=comment.pk)
        previous = CommentStatus(comment.status)
        if previous != CommentStatus.HIDDEN:
            _move(comment, to=CommentStatus.HIDDEN, allowed={previous}, hidden_reason=reason)
        else:
            Comment.objects.filter(pk=comment.pk).update(hidden_reason=reason)
            comment.hidden_reason = reason
        _resolve_reports(comment, timezone.now())
        log_action("comment.hidden", comment, actor=actor, previous=str(previous))
    return comment


def restore_comment(*, comment: Comment, actor: Any) -> Comment:
    with transaction.atomic():
        comment = Comment.objects.select_for_update().get(pk=comment.pk)
        if _move(comment, to=CommentStatus.PUBLISHED, allowed={CommentStatus.HIDDEN}, hidden_reason=""):
            log_action("comment.restored", comment, actor=actor)
    return comment


def block_commenter(*, comment: Comment, kind: BlockKind, actor: Any, reason: str = "") -> Block | None:
    """Stop the comment's author (their email address, or their IP hash) commenting in this
    organisation's discussions. None when there is nothing to block (no IP hash kept)."""
    hint = ""
    if kind == BlockKind.EMAIL:
        value = links.blocked_email_hash(comment.email_key) if comment.email_key else ""
        hint = masked_email(comment.email_key)
    else:
        value = comment.ip_hash
    if not value:
        return None
    organisation_id = Discussion.objects.filter(pk=comment.discussion_id).values_list("organisation_id", flat=True)[0]
    with transaction.atomic():
        block, created = Block.objects.get_or_create(
            organisation_id=organisation_id,
            kind=kind,
            value=value,
            defaults={
                "reason": reason,
                "hint": hint,
                "created_by": actor if getattr(actor, "is_authenticated", False) else None,
            },
        )
        if created:
            log_action("comment.author_blocked", comment, actor=actor, block=block.pk, kind=str(kind))
    return block


def unsubscribe_replies(*, comment: Comment) -> int:
    """One-click unsubscribe: no more reply emails to this comment's author, in any discussion."""
    with transaction.atomic():
        changed = Comment.objects.filter(email_key=comment.email_key, notify_replies=True).update(notify_replies=False)
        if changed:
            _record_notify_consent(comment, granted=False, source="unsubscribe link")
            log_action("comment.replies_unsubscribed", comment, comments=changed)
    return changed


# --- Emails (called by tasks) ------------------------------------------------------------------


def _send(message: Any) -> bool:
    try:
        mailers.default.send_messages([message])
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("discussion email not sent: %s", type(exc).__name__)
        return False
    return True


def send_confirmation(comment_id: int) -> bool:
    """Email the author of an unconfirmed comment the link to confirm it. Once per comment."""
    now = timezone.now()
    claimed = Comment.objects.filter(
        pk=comment_id, status=CommentStatus.UNCONFIRMED, confirmation_sent_at__isnull=True
    ).update(confirmation_sent_at=now)
    if not claimed:
        return False
    comment = Comment.objects.select_related("discussion__organisation").get(pk=comment_id)
    if _send(emails.confirmation_message(comment)):
        return True
    Comment.objects.filter(pk=comment_id).update(confirmation_sent_at=None)
    return False


def send_reply_notification(comment_id: int) -> bool:
    """Tell the author of the comment replied to, if they asked to be told. Once per reply."""
    now = timezone.now()
    claimed = Comment.objects.filter(
        pk=comment_id, status=CommentStatus.PUBLISHED, reply_notified_at__isnull=True, parent__isnull=False
    ).update(reply_notified_at=now)
    if not claimed:
        return False
    reply = Comment.objects.select_related("parent", "discussion__organisation").get(pk=comment_id)
    parent = reply.parent
    if parent is None or not parent.notify_replies or parent.email_key == reply.email_key or not parent.is_visible:
        return False
    if _send(emails.reply_message(reply, parent)):
        log_action("comment.reply_notified", reply, parent=parent.pk)
        return True
    Comment.objects.filter(pk=comment_id).update(reply_notified_at=None)
    return False
