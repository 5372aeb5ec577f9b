"""The two emails a discussion sends: "confirm your comment" and "someone replied to you".

From is the platform's own address; names are made single-line before they reach a
header. Reply notifications carry one-click unsubscribe headers (RFC 8058): mail
programs show an "Unsubscribe" button that POSTs to our link without opening a page.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from undersigned.core.emails import named_address
from undersigned.core.languages import email_language
from undersigned.core.sanitising import single_line

from .links import confirm_token, unsubscribe_token
from .models import Comment


def _from(organisation: str) -> str:
    # Translators: the From name of the discussion's emails.
    name = gettext("Discussion at %(organisation)s") % {"organisation": organisation}
    return named_address(name, f"letters@{settings.MAIL_DOMAIN}")


def _to(comment: Comment) -> str:
    return named_address(comment.author_name, comment.email)


def comment_url(comment: Comment) -> str:
    return settings.BASE_URL + reverse("public:discussion", args=[comment.discussion_id]) + f"#comment-{comment.pk}"


def unsubscribe_url(comment: Comment) -> str:
    return settings.BASE_URL + reverse("public:comment_unsubscribe", args=[unsubscribe_token(comment.pk)])


def confirmation_message(comment: Comment) -> EmailMessage:
    """In the language the commenter wrote in."""
    with translation.override(email_language(comment.language)):
        return _confirmation_message(comment)


def _confirmation_message(comment: Comment) -> EmailMessage:
    discussion = comment.discussion
    context = {
        "comment": comment,
        "title": discussion.owner_title,
        "organisation": discussion.organisation.name,
        "confirm_url": settings.BASE_URL + reverse("public:comment_confirm", args=[confirm_token(comment.pk)]),
        "days": settings.COMMENT_CONFIRM_DAYS,
    }
    return EmailMessage(
        subject=single_line(gettext("Confirm your comment on “%(title)s”") % {"title": discussion.owner_title})[:200],
        body=render_to_string("discussion/email/confirm.txt", context),
        from_email=f"letters@{settings.MAIL_DOMAIN}",
        to=[_to(comment)],
        headers={"From": _from(discussion.organisation.name), "Auto-Submitted": "auto-generated"},
    )


def reply_message(reply: Comment, parent: Comment) -> EmailMessage:
    """In the language the author of the comment replied to wrote in."""
    with translation.override(email_language(parent.language)):
        return _reply_message(reply, parent)


def _reply_message(reply: Comment, parent: Comment) -> EmailMessage:
    discussion = reply.discussion
    unsubscribe = unsubscribe_url(parent)
    context = {
        "reply": reply,
        "parent": parent,
        "title": discussion.owner_title,
        "url": comment_url(reply),
        "unsubscribe_url": unsubscribe,
    }
    return EmailMessage(
        subject=single_line(
            gettext("%(name)s replied to your comment on “%(title)s”")
            % {"name": reply.author_name, "title": discussion.owner_title}
        )[:200],
        body=render_to_string("discussion/email/reply.txt", context),
        from_email=f"letters@{settings.MAIL_DOMAIN}",
        to=[_to(parent)],
        headers={
            "From": _from(discussion.organisation.name),
            "Auto-Submitted": "auto-generated",
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
