"""The confirmation email an endorser gets: a link to a page with a button, a code, a withdrawal link.

Sent by a worker (``tasks.send_confirmation``), never in the request. The email holds
no secret the database keeps in plain text: the link and the code are derived from
the endorsement's current nonce (``links``), so a message sent for an older
submission simply stops working.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from undersigned.core.emails import named_address
from undersigned.core.languages import email_language
from undersigned.core.sanitising import single_line

from . import links
from .models import Endorsement, OpenLetterVersion
from .text import version_label

logger = logging.getLogger(__name__)


def confirm_url(endorsement: Endorsement) -> str:
    token = links.confirm_token(endorsement.pk, endorsement.confirm_nonce)
    return settings.BASE_URL + reverse("openletters:confirm", args=[endorsement.letter.slug, token])


def withdraw_url(endorsement: Endorsement) -> str:
    token = links.withdraw_token(endorsement.pk, endorsement.withdraw_secret)
    return settings.BASE_URL + reverse("openletters:withdraw", args=[endorsement.letter.slug, token])


def build_message(endorsement: Endorsement) -> EmailMultiAlternatives:
    """In the language the endorser used on the site (the letter's for one recorded without it)."""
    with translation.override(email_language(endorsement.language, endorsement.letter.language)):
        return _build_message(endorsement)


def _endorsed_version(endorsement: Endorsement) -> OpenLetterVersion | None:
    """The version confirming the email's link makes the endorsement endorse."""
    wanted = (endorsement.pending_update or {}).get("version") or endorsement.version_id
    return OpenLetterVersion.objects.filter(pk=wanted, letter_id=endorsement.letter_id).first()


def _build_message(endorsement: Endorsement) -> EmailMultiAlternatives:
    letter = endorsement.letter
    version = _endorsed_version(endorsement)
    # The letter named as the endorser read it: the title of the text (and language) they endorse.
    title = version.title if version is not None else letter.title
    context = {
        "title": title,
        "version": version,
        "version_label": version_label(version) if version else "",
        "endorsement": endorsement,
        "letter": letter,
        "confirm_url": confirm_url(endorsement),
        "code_url": settings.BASE_URL + reverse("openletters:confirm_code", args=[letter.slug]),
        "code": links.confirm_code(endorsement.pk, endorsement.confirm_nonce),
        "withdraw_url": withdraw_url(endorsement),
        "hours": settings.ENDORSEMENT_CONFIRM_HOURS,
        "update": bool(endorsement.pending_update),
    }
    body = render_to_string("openletters/email_confirm.txt", context)
    if endorsement.pending_update:
        subject = gettext("Please confirm the changes to your endorsement of “%(title)s”")
    else:
        subject = gettext("Please confirm your endorsement of “%(title)s”")
    sender = single_line(letter.organisation.display_short_name)[:100]
    message = EmailMultiAlternatives(
        subject=single_line(subject % {"title": title})[:200],
        body=body,
        from_email=named_address(
            gettext("%(organisation)s via Undersigned") % {"organisation": sender}, f"letters@{settings.MAIL_DOMAIN}"
        ),
        to=[named_address(endorsement.signatory or endorsement.name, endorsement.email)],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(render_to_string("openletters/email_confirm.html", context), "text/html")
    return message


def send_confirmation(endorsement_id: int) -> bool:
    """Send the endorsement's confirmation email if it still waits for one; True if sent."""
    endorsement = (
        Endorsement.objects.select_related("letter__organisation")
        .filter(pk=endorsement_id)
        .exclude(confirm_nonce="")
        .first()
    )
    if (
        endorsement is None
        or endorsement.confirm_expires_at is None
        or endorsement.confirm_expires_at <= timezone.now()
    ):
        logger.info("endorsement %s needs no confirmation email", endorsement_id)
        return False
    mailers.default.send_messages([build_message(endorsement)])
    Endorsement.objects.filter(pk=endorsement.pk).update(confirmation_sent_at=timezone.now())
    logger.info("confirmation email for endorsement %s sent", endorsement_id)
    return True
