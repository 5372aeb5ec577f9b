"""Campaigns, their recipients and letter templates."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from undersigned.core.models import TimeStampedModel
from undersigned.organisations.models import Organisation

from .enums import (
    CHANNEL_ORDER,
    REPLY_ASK_DAYS_MAX,
    REPLY_ASK_DAYS_MIN,
    CampaignStatus,
    Channel,
    ReplyAddress,
    Routing,
)


class Recipient(TimeStampedModel):
    """A decision-maker or office a letter goes to. Owned by one organisation, reusable across campaigns."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="recipients")
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=200, blank=True)
    organisation_name = models.CharField("organisation", max_length=200, blank=True)
    email = models.EmailField(blank=True)
    web_form_url = models.URLField("web form URL", blank=True, max_length=500)
    postal_address = models.TextField(blank=True, help_text=_("One line per line of the envelope."))
    country = models.CharField(max_length=2, blank=True, help_text=_("ISO 3166-1 alpha-2 code, e.g. GB."))
    language = models.CharField(max_length=10, blank=True)
    # Set when mail to this address bounced, for organisers to fix.
    email_flagged_at = models.DateTimeField(null=True, blank=True)
    email_flag_reason = models.CharField(max_length=500, blank=True)
    # Not flooding recipients: at most this many platform emails a minute (none: no
    # limit), or one digest a day listing that day's letters.
    max_emails_per_minute = models.PositiveIntegerField(null=True, blank=True)
    daily_digest = models.BooleanField(
        default=False, help_text=_("Send one email a day listing that day's letters instead of each letter.")
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}, {self.role}" if self.role else self.name

    @property
    def address_lines(self) -> list[str]:
        return [line.strip() for line in self.postal_address.splitlines() if line.strip()]


class RecipientGroup(TimeStampedModel):
    """Recipients who decide together (e.g. national sections), each with a vote weight."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="recipient_groups")
    name = models.CharField(max_length=200)
    decision_date = models.DateField(null=True, blank=True)
    members = models.ManyToManyField(Recipient, through="RecipientGroupMember", related_name="groups")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RecipientGroupMember(models.Model):
    group = models.ForeignKey(RecipientGroup, on_delete=models.CASCADE)
    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE)
    vote_weight = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "recipient"], name="one_membership_per_recipient")]

    def __str__(self) -> str:
        return f"{self.recipient_id} in {self.group_id} ({self.vote_weight})"


def default_reply_ask_days() -> int:
    """A new campaign's reply delay: the site's ``UNDERSIGNED_REPLY_ASK_DAYS``, within the bounds."""
    return min(max(settings.REPLY_ASK_AFTER_DAYS, REPLY_ASK_DAYS_MIN), REPLY_ASK_DAYS_MAX)


class Campaign(TimeStampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="campaigns")
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(max_length=1000, blank=True)
    background = models.TextField(blank=True, help_text=_("Markdown. Raw HTML is not allowed."))
    status = models.CharField(max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    deadline = models.DateTimeField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=10, default="en")
    author_name = models.CharField(max_length=200, blank=True)
    author_role = models.CharField(max_length=200, blank=True)
    author_place = models.CharField(max_length=200, blank=True)
    pow_required = models.BooleanField(
        "proof-of-work check",
        default=False,
        help_text=_(
            "Switch on during a wave of automated spam: supporters' browsers solve a short "
            "calculation before a letter is accepted. Forms then need JavaScript; switch it off again afterwards."
        ),
    )
    min_uniqueness = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(100)],
        help_text=_("Percent of a letter that must be in the supporter's own words before it can be sent."),
    )
    posts_for_supporters = models.BooleanField(
        default=False,
        help_text=_(
            "Supporters may ask the organisation to print and post their letter; "
            "organisers print them in bulk with `undersigned print`."
        ),
    )
    recipients = models.ManyToManyField(Recipient, through="CampaignRecipient", related_name="campaigns")
    # A campaign addressed to a group: its members are the campaign's recipients, the
    # coverage board counts them, and ``routing`` says whom each supporter writes to.
    recipient_group = models.ForeignKey(
        RecipientGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="campaigns"
    )
    routing = models.CharField(max_length=20, choices=Routing.choices, default=Routing.EVERY)
    # ``Routing.OWN_OR_UNREACHED``: a member with at least this many letters is well
    # covered; 0 means "twice the median member's letters, and at least one".
    well_covered_at = models.PositiveIntegerField(default=0)
    # Replies (``delivery/replies.py``): the "Did you get a reply?" question goes this many
    # days after a letter was sent; where platform-sent letters carry the per-letter reply
    # address; whether the public page shows how responsive the recipients are (counts only).
    reply_ask_days = models.PositiveSmallIntegerField(
        default=default_reply_ask_days,
        validators=[MinValueValidator(REPLY_ASK_DAYS_MIN), MaxValueValidator(REPLY_ASK_DAYS_MAX)],
    )
    reply_address = models.CharField(max_length=10, choices=ReplyAddress.choices, default=ReplyAddress.REPLY_TO)
    responsiveness_public = models.BooleanField(default=False)
    # Kept counter: letters with at least one delivery. Never recomputed per request.
    letters_sent = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        if self.status != CampaignStatus.LIVE:
            return False
        return self.deadline is None or self.deadline > timezone.now()


class CampaignRecipient(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE)
    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["campaign", "recipient"], name="recipient_once_per_campaign")]

    def __str__(self) -> str:
        return f"{self.recipient_id} in {self.campaign_id}"


def default_channels() -> list[str]:
    return [str(c) for c in CHANNEL_ORDER]


class LetterTemplate(TimeStampedModel):
    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="template")
    subject = models.CharField(max_length=200)
    body = models.TextField(help_text=_("Placeholders: {{ supporter.name }}, {{ recipient.name }}, …"))
    prompts = models.JSONField(default=list, blank=True, help_text=_("Writing prompts, a list of questions."))
    channels = models.JSONField(default=default_channels)
    language = models.CharField(max_length=10, blank=True)

    def __str__(self) -> str:
        return self.subject

    @property
    def allowed_channels(self) -> list[Channel]:
        wanted = set(self.channels)
        return [c for c in CHANNEL_ORDER if c in wanted]


class CampaignTranslation(TimeStampedModel):
    """A campaign's page text and template letter in one more language.

    The campaign's main language (``Campaign.language``) keeps its text where it always
    was, on the campaign (summary, background) and its ``LetterTemplate`` (subject, body,
    prompts); a translation holds the same parts for another language, at most one per
    language. What a translation leaves empty (a summary, a background, prompts) the
    pages take from the main language. Channels and every other setting are the
    campaign's, whatever the language.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=10)
    summary = models.TextField(max_length=1000, blank=True)
    background = models.TextField(blank=True, help_text=_("Markdown. Raw HTML is not allowed."))
    subject = models.CharField(max_length=200)
    body = models.TextField(help_text=_("Placeholders: {{ supporter.name }}, {{ recipient.name }}, …"))
    prompts = models.JSONField(default=list, blank=True, help_text=_("Writing prompts, a list of questions."))

    class Meta:
        ordering = ["language"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "language"], name="one_translation_per_language"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} ({self.language})"
