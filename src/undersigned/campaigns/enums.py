from django.db import models
from django.utils.translation import gettext_lazy as _


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    LIVE = "live", _("Live")
    CLOSED = "closed", _("Closed")
    # Put away by its organisers: gone from the public lists, its pages answer 404 as a
    # draft's do (letters already written keep their own links). Organisers can move it
    # back to the drafts.
    ARCHIVED = "archived", _("Archived")


class Channel(models.TextChoices):
    EMAIL = "email", _("Sent by us for you")
    MAILTO = "mailto", _("Your own email app")
    WEB_FORM = "web_form", _("Their web form")
    POST = "post", _("By post")


CHANNEL_ORDER = [Channel.MAILTO, Channel.EMAIL, Channel.WEB_FORM, Channel.POST]
# The labels above speak to supporters; organisers read about the same channels.
CHANNEL_NAMES_FOR_ORGANISERS = {
    Channel.MAILTO: _("Supporter's own email"),
    Channel.EMAIL: _("Sent by the platform"),
    Channel.WEB_FORM: _("Recipient's web form"),
    Channel.POST: _("By post"),
}


class Routing(models.TextChoices):
    """Whom a supporter's letter goes to in a campaign addressed to a recipient group
    (``campaigns/routing.py`` decides; the editor's help text explains each)."""

    EVERY = "every", _("Every member of the group")
    OWN_COUNTRY = "own_country", _("The member of the supporter's own country")
    OWN_OR_UNREACHED = (
        "own_or_unreached",
        _(
            "The member of the supporter's own country; when there is none or it is well covered, "
            "members nobody has reached yet"
        ),
    )


class ReplyAddress(models.TextChoices):
    """Where a letter the platform sends carries its per-letter reply address
    (``delivery.addresses.reply_address``), so a recipient's answer reaches
    ``undersigned inbound`` and is matched to the letter. Reply-To always names the
    supporter first: the recipient's answer reaches them in every case."""

    REPLY_TO = "reply_to", _("In Reply-To, after the supporter: a reply goes to both, no extra address is shown")
    CC = "cc", _("In Cc: the recipient sees the address, and answering all reaches it")
    OFF = "off", _("Not added: replies reach the supporter only")


# A campaign's reply question: asked this many days after the letter went (the editor's
# and the campaign file's bounds).
REPLY_ASK_DAYS_MIN = 1
REPLY_ASK_DAYS_MAX = 180
