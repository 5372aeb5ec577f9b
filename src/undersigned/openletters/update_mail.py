"""An organisation's update by email: what a supporter receives, and its preview.

The delivery engine (``delivery.sending``) claims, retries and marks an update's
``Delivery`` like a letter's, and asks this module (registered by path in ``apps.py``)
for the message. It asks first whether the supporter stopped such updates since the
update was queued (``supporters.updates.withdrew_since``): then ``NotWanted``, and
nothing goes.

From is the platform's address with "<organisation> via Undersigned", To the supporter
(``core.emails.named_address``), the subject through ``single_line``. Every update
carries RFC 8058 one-click unsubscribe: ``List-Unsubscribe`` with the signed link of
``public/update_links.py`` and ``List-Unsubscribe-Post`` (both DKIM-signed,
``core.mailers.SIGNED_HEADERS``), and a footer that says why the person receives it.
The body is the organiser's Markdown: the plain-text part as typed, the HTML part
through ``core.sanitising.markdown_to_html``.

Languages: an update may have versions in other languages (``UpdateTranslation``). The
version a person gets is chosen here, when their email is built, not at the fan-out: a
``Delivery`` row has no place for it, and the choice costs two indexed reads per email
(the update's versions; then, only when it has some, the language of the person's latest
letter or their endorsement, ``queries.supporter_languages``), whatever the campaign's
size. The preview's counts per language (``services.updates.reach_by_language``) make
the same choice for everyone at once. The platform's own words (greeting, footer,
unsubscribe text, "via") are in the version's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from undersigned.core.emails import named_address
from undersigned.core.mailers import PreparedEmail
from undersigned.core.sanitising import markdown_to_html, single_line
from undersigned.delivery.addresses import bounce_address
from undersigned.delivery.channels.email import message_id_for
from undersigned.delivery.sending import NotWanted
from undersigned.supporters import updates as supporter_updates
from undersigned.supporters.models import Supporter

from . import queries
from .models import Update, UpdateTranslation


@dataclass(frozen=True)
class UpdateEmail:
    sender: str  # the From's name
    subject: str
    text: str
    html: str  # the whole HTML part
    shown: SafeString  # what the HTML part shows (greeting, body, footer), for the workspace's preview
    language: str  # the version's language, and its direction ("rtl" for Arabic)
    direction: str


def unsubscribe_url(*, supporter_id: int, organisation_id: int) -> str:
    token = supporter_updates.unsubscribe_token(supporter_id=supporter_id, organisation_id=organisation_id)
    return settings.BASE_URL + reverse("public:update_unsubscribe", args=[token])


def compose(
    update: Update, *, supporter_name: str, unsubscribe: str, version: UpdateTranslation | None = None
) -> UpdateEmail:
    """The email as the supporter sees it: in the update's main language, or in
    ``version`` (one of its translations), the platform's words in the same language."""
    language = version.language if version is not None else update.language
    subject = version.subject if version is not None else update.subject
    body = version.body if version is not None else update.body
    organisation = single_line(update.organisation.display_short_name)[:100]
    what = (
        update.campaign.title if update.campaign is not None else update.open_letter.title if update.open_letter else ""
    )
    with translation.override(language or settings.LANGUAGE_CODE):
        direction = "rtl" if translation.get_language_bidi() else "ltr"
        content = mark_safe(markdown_to_html(body))  # noqa: S308 (sanitised by nh3 in markdown_to_html)
        context = {
            "update": update,
            "organisation": organisation,
            "name": supporter_name,
            "what": what,
            "is_campaign": update.campaign_id is not None,
            "content": content,
            "body": body,
            "subject": subject,
            "unsubscribe": unsubscribe,
            "language": language,
            "direction": direction,
        }
        sender = gettext("%(organisation)s via Undersigned") % {"organisation": organisation}
        text = render_to_string("openletters/email/update.txt", context)
        # Our template, autoescaped; the organiser's text inside it sanitised (``content``).
        shown = mark_safe(render_to_string("openletters/email/_update_body.html", context))  # noqa: S308
        html = render_to_string("openletters/email/update.html", {**context, "shown": shown})
    return UpdateEmail(
        sender=sender,
        subject=single_line(subject),
        text=text,
        html=html,
        shown=shown,
        language=language,
        direction=direction,
    )


def version_for(update: Update, *, supporter_id: int, email: str) -> UpdateTranslation | None:
    """The translation this supporter gets, or None for the main version."""
    versions = queries.update_translations(update.pk)
    if not versions:
        return None
    spoken = queries.supporter_languages(
        supporters=[(supporter_id, email)], campaign_id=update.campaign_id, open_letter_id=update.open_letter_id
    )
    chosen = queries.version_language(spoken.get(supporter_id), main=update.language, available=versions)
    return versions.get(chosen)


def build_message(delivery: Any) -> PreparedEmail:
    update = Update.objects.select_related("organisation", "campaign", "open_letter").get(pk=int(delivery.update_id))
    supporter = Supporter.objects.only("email", "name").get(pk=int(delivery.supporter_id))
    if update.queued_at is not None and supporter_updates.withdrew_since(
        supporter_id=supporter.pk,
        organisation_id=update.organisation_id,
        campaign_id=update.campaign_id,
        open_letter_id=update.open_letter_id,
        since=update.queued_at,
    ):
        raise NotWanted("The supporter unsubscribed after the update was queued; nothing was sent.")
    link = unsubscribe_url(supporter_id=supporter.pk, organisation_id=update.organisation_id)
    version = version_for(update, supporter_id=supporter.pk, email=supporter.email)
    mail = compose(update, supporter_name=supporter.name, unsubscribe=link, version=version)
    message = PreparedEmail(
        subject=mail.subject,
        body=mail.text,
        from_email=bounce_address(delivery.pk),
        to=[named_address(supporter.name, supporter.email)],
        headers={
            "From": named_address(mail.sender, f"letters@{settings.MAIL_DOMAIN}"),
            "Message-ID": message_id_for(delivery.pk),
            "List-Unsubscribe": f"<{link}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(mail.html, "text/html")
    return message
