"""The emails a supporter gets about their letters.

- **Confirmation** (``send_confirmation``): once per letter, after it is first saved:
  the private link to come back to it, and a copy of the letter as the recipients will
  read it (each recipient's salutation filled in). An edit or a double submit of the
  same form never sends it again: the letter's ``confirmation_sent_at`` is claimed by a
  conditional update before the message goes.
- **Your links again** (``send_links``): a supporter who lost the link types their
  address on the campaign page; the letters of that address in the campaign are sent
  to it. The page answers the same whether or not the address is known.
- **Did you get a reply?** (``send_reply_ask``, called by ``delivery.replies``): once
  per letter, some days after it was sent: three links, yes / not yet / no.
- **Posted** (``send_posted_notice``, called by ``delivery.notices``): once per letter,
  when the organisation marks its printed letter posted.

Each is transactional (no unsubscribe: it answers something the person did), sent by a
task worker through ``core.mailers``, From the platform's address with the
organisation's name, in the campaign's language (every string through gettext). Names
reach headers only through ``core.emails.named_address``; the subject through
``single_line``.
"""

from __future__ import annotations

import datetime
import logging
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from undersigned.campaigns.queries import campaign_recipients
from undersigned.core.emails import named_address
from undersigned.core.languages import email_language
from undersigned.core.sanitising import single_line

from . import texts as letter_texts
from .links import sign_token
from .models import Letter, ReplyAnswer
from .queries import text_for

logger = logging.getLogger(__name__)

# A copy shows every recipient's salutation up to this many; a campaign to a whole
# council lists the first ones and says how many more.
SALUTATIONS_SHOWN = 20
SUBJECT_LIMIT = 200


def letter_url(letter: Letter) -> str:
    """The supporter's private link to the letter (signed, expiring: ``links``)."""
    return settings.BASE_URL + reverse("public:letter", args=[sign_token(letter.token)])


def _from(letter: Letter) -> str:
    organisation = single_line(letter.campaign.organisation.display_short_name)[:100]
    return named_address(f"{organisation} via Undersigned", f"letters@{settings.MAIL_DOMAIN}")


def _to(letter: Letter) -> str:
    return named_address(letter.sender_name, letter.supporter.email)


def _message(letter: Letter, *, subject: str, template: str, context: dict[str, object]) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=single_line(subject)[:SUBJECT_LIMIT],
        body=render_to_string(f"letters/email/{template}.txt", context),
        from_email=_from(letter),
        to=[_to(letter)],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(render_to_string(f"letters/email/{template}.html", context), "text/html")
    return message


@dataclass(frozen=True)
class Copy:
    """The letter as its first recipient reads it, and the salutation each one reads."""

    subject: str
    body: str
    salutations: list[tuple[str, str]]  # (recipient's name, the letter's first line to them)
    more: int  # recipients beyond SALUTATIONS_SHOWN


def letter_copy(letter: Letter) -> Copy:
    recipients = campaign_recipients(letter.campaign)
    letter_texts.preload_versions([letter])  # one query for a letter written once per language
    texts = [(recipient.name, text_for(letter, recipient)) for recipient in recipients[:SALUTATIONS_SHOWN]]
    if not texts:  # a campaign without recipients yet: the text with the sender's details
        return Copy(letter.subject, letter.body, [], 0)
    first = texts[0][1]
    salutations = [(name, next((line for line in text.body.split("\n") if line.strip()), "")) for name, text in texts]
    return Copy(first.subject, first.body, salutations, max(0, len(recipients) - SALUTATIONS_SHOWN))


def confirmation_message(letter: Letter) -> EmailMultiAlternatives:
    campaign = letter.campaign
    with translation.override(email_language(letter.language, campaign.language)):
        context = {
            "letter": letter,
            "campaign": campaign,
            "organisation": campaign.organisation.name,
            "url": letter_url(letter),
            "copy": letter_copy(letter),
            "days": settings.DRAFT_LINK_MAX_AGE_DAYS,
            "language": campaign.language,
        }
        subject = _("Your letter to “%(campaign)s”: your private link") % {"campaign": campaign.title}
        return _message(letter, subject=subject, template="confirmation", context=context)


def links_message(letters: Sequence[Letter]) -> EmailMultiAlternatives:
    first = letters[0]
    campaign = first.campaign
    with translation.override(email_language(first.language, campaign.language)):
        context = {
            "campaign": campaign,
            "organisation": campaign.organisation.name,
            "letters": [(letter, letter_url(letter)) for letter in letters],
            "days": settings.DRAFT_LINK_MAX_AGE_DAYS,
        }
        subject = _("Your letters to “%(campaign)s”") % {"campaign": campaign.title}
        return _message(first, subject=subject, template="links", context=context)


def posted_message(letter: Letter, *, posted_on: datetime.date) -> EmailMultiAlternatives:
    campaign = letter.campaign
    with translation.override(email_language(letter.language, campaign.language)):
        context = {
            "letter": letter,
            "campaign": campaign,
            "organisation": campaign.organisation.name,
            "posted_on": posted_on,
            "url": letter_url(letter),
        }
        subject = _("%(organisation)s has posted your letter") % {"organisation": campaign.organisation.name}
        return _message(letter, subject=subject, template="posted", context=context)


def reply_answer_url(letter: Letter, answer: str) -> str:
    return settings.BASE_URL + reverse("public:reply_answer", args=[sign_token(letter.token), answer])


def reply_ask_message(letter: Letter) -> EmailMultiAlternatives:
    campaign = letter.campaign
    with translation.override(email_language(letter.language, campaign.language)):
        context = {
            "letter": letter,
            "campaign": campaign,
            "organisation": campaign.organisation.name,
            "answers": [
                (_("Yes, I got a reply"), reply_answer_url(letter, ReplyAnswer.YES)),
                (_("Not yet"), reply_answer_url(letter, ReplyAnswer.NOT_YET)),
                (_("No"), reply_answer_url(letter, ReplyAnswer.NO)),
            ],
            "url": letter_url(letter),
        }
        subject = _("Did you get a reply to your letter about “%(campaign)s”?") % {"campaign": campaign.title}
        return _message(letter, subject=subject, template="reply_ask", context=context)


def _send(message: EmailMultiAlternatives, what: str, letter_id: int) -> bool:
    try:
        mailers.default.send_messages([message])
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("%s for letter %s not sent: %s", what, letter_id, type(exc).__name__)
        return False
    return True


def _letter(letter_id: int) -> Letter | None:
    return Letter.objects.select_related("campaign__organisation", "supporter").filter(pk=letter_id).first()


def send_confirmation(letter_id: int) -> bool:
    """Email the supporter their private link and a copy of the letter. Once per letter.

    Claimed first (a conditional update), so a repeated task sends nothing twice; the
    claim is given back if the mail server could not take the message, for the task's
    next run.
    """
    claimed = Letter.objects.filter(pk=letter_id, confirmation_sent_at__isnull=True).update(
        confirmation_sent_at=timezone.now()
    )
    letter = _letter(letter_id) if claimed else None
    if letter is None or not letter.supporter.email:
        return False
    if _send(confirmation_message(letter), "confirmation", letter_id):
        logger.info("confirmation for letter %s sent", letter_id)
        return True
    Letter.objects.filter(pk=letter_id).update(confirmation_sent_at=None)
    return False


def send_links(letter_ids: Sequence[int]) -> bool:
    """Email a supporter the private links of their letters in one campaign (one message).

    The ids come from ``queries.letters_of_address``: one address, one campaign. An empty
    list (the address wrote no letter there) sends nothing; the page said the same.
    """
    letters = list(
        Letter.objects.select_related("campaign__organisation", "supporter")
        .filter(pk__in=list(letter_ids))
        .order_by("-created_at", "-pk")
    )
    if not letters:
        return False
    if len({(letter.supporter_id, letter.campaign_id) for letter in letters}) != 1:
        raise ValueError("links of one supporter's letters in one campaign only")
    return _send(links_message(letters), "links", letters[0].pk)


def send_posted_notice(letter_id: int, *, posted_on: datetime.date) -> bool:
    """Tell the supporter the organisation posted their letter. Once per letter."""
    claimed = Letter.objects.filter(pk=letter_id, posted_notice_sent_at__isnull=True).update(
        posted_notice_sent_at=timezone.now()
    )
    letter = _letter(letter_id) if claimed else None
    if letter is None or not letter.supporter.email:
        return False
    if _send(posted_message(letter, posted_on=posted_on), "posted notice", letter_id):
        return True
    Letter.objects.filter(pk=letter_id).update(posted_notice_sent_at=None)
    return False


def send_reply_ask(letter_id: int) -> bool:
    """Ask the supporter whether the letter got a reply. Once per letter, claimed first.

    Which letters are due is decided by ``delivery.replies`` (it knows the deliveries).
    """
    claimed = Letter.objects.filter(pk=letter_id, reply_asked_at__isnull=True).update(reply_asked_at=timezone.now())
    letter = _letter(letter_id) if claimed else None
    if letter is None or not letter.supporter.email:
        return False
    if _send(reply_ask_message(letter), "reply question", letter_id):
        return True
    Letter.objects.filter(pk=letter_id).update(reply_asked_at=None)
    return False
