"""The invitation email: who invites whom to which organisation, the link, and when it expires."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext

from undersigned.core.emails import named_address
from undersigned.core.sanitising import single_line

from .links import invitation_token
from .models import Invitation


def invitation_url(invitation: Invitation) -> str:
    token = invitation_token(invitation.pk, invitation.nonce)
    return settings.BASE_URL + reverse("dashboard:invitation", args=[token])


def invitation_message(invitation: Invitation) -> EmailMessage:
    # The organisation's name is typed by people: one line, short, before it goes in a header.
    organisation = single_line(invitation.organisation.name)[:100]
    context = {
        "organisation": invitation.organisation.name,
        "role": invitation.get_role_display(),
        "url": invitation_url(invitation),
        "expires_at": invitation.expires_at,
    }
    subject = gettext("You are invited to join %(organisation)s on Undersigned") % {"organisation": organisation}
    return EmailMessage(
        subject=single_line(subject)[:200],
        body=render_to_string("organisations/email/invitation.txt", context),
        from_email=named_address(
            gettext("%(organisation)s via Undersigned") % {"organisation": organisation},
            f"letters@{settings.MAIL_DOMAIN}",
        ),
        to=[invitation.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
