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
