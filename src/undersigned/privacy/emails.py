"""The email with the "my data" link. Transactional (it answers what the person asked
for), in the site's language, sent to any address typed: known or not, the same
message goes, so neither the page nor the mail says whether the address is known."""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from undersigned.core.emails import named_address

from .links import make_token

logger = logging.getLogger(__name__)


def link_message(email: str) -> EmailMessage:
    url = settings.BASE_URL + reverse("public:my_data_open", args=[make_token(email)])
    body = render_to_string("privacy/email/link.txt", {"url": url, "minutes": settings.MY_DATA_LINK_MINUTES})
    return EmailMessage(
        subject=_("Your data on Undersigned"),
        body=body,
        from_email=named_address("Undersigned", f"letters@{settings.MAIL_DOMAIN}"),
        to=[email],
    )


def send_link(email: str) -> bool:
    try:
        mailers.default.send_messages([link_message(email)])
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("my data link not sent: %s", type(exc).__name__)
        return False
    return True
