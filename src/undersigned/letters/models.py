"""Letters: one supporter's personalised letter in one campaign."""

from __future__ import annotations

import secrets
import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from undersigned.campaigns.models import Campaign, Recipient
from undersigned.core.languages import LANGUAGE_MAX_LENGTH
from undersigned.core.models import TimeStampedModel
from undersigned.supporters.models import Supporter


def new_token() -> str:
    return secrets.token_urlsafe(24)


class ReplyAnswer(models.TextChoices):
    YES = "yes", _("Yes")
    NOT_YET = "not_yet", _("Not yet")
    NO = "no", _("No")


class Letter(TimeStampedModel):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="letters")
    supporter = models.ForeignKey(Supporter, on_delete=models.CASCADE, related_name="letters")
    # The sender as written on this letter. Kept on the letter, not only on the
    # Supporter, so that a letter reads the same later and nobody who types another
    # person's email address can change that person's details.
    sender_name = models.CharField(max_length=120)
    sender_town = models.CharField(max_length=120, blank=True)
    sender_country = models.CharField(max_length=2, blank=True)
    sender_address = models.TextField(blank=True, max_length=500)
    subject = models.CharField(max_length=200)
    # Kept with its placeholders: each recipient gets their own salutation.
    body = models.TextField()
    uniqueness = models.PositiveSmallIntegerField(default=0, help_text=_("Percent in the supporter's own words."))
    # The language of the campaign's text the letter was written from (its template,
    # ``campaigns/languages.py``): the PDF hyphenates in it and the own-words score
    # compares against that language's template. "" (letters from before languages):
    # the campaign's main language. Not the site language the supporter used.
    text_language = models.CharField(max_length=10, blank=True)
    # The one member a routed letter goes to (``campaigns/routing.py``); None: every
    # recipient of the campaign, as campaigns without a group have always done.
    addressed_to = models.ForeignKey(Recipient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # One per composer page load: a double click, reload or back-button resubmit of the
    # same form finds this key and updates the letter instead of creating a second one.
    submission_key = models.UUIDField(default=uuid.uuid4, unique=True)
    # The secret part of the supporter's own link to come back to the letter.
    token = models.CharField(max_length=64, unique=True, default=new_token)
    sent_at = models.DateTimeField(null=True, blank=True, help_text=_("First delivery recorded."))
    # When the campaign's public counter (Campaign.letters_sent) counted this letter: its
    # first delivery reached self-reported evidence or above. The gate that makes a letter
    # count once; kept by delivery/counter.py only.
    counted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The supporter's emails about this letter (letters/emails.py), each claimed by a
    # conditional update so a repeated task sends nothing twice: the confirmation with
    # the private link, and the notice that the organisation posted it.
    confirmation_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    posted_notice_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # "Did you get a reply?" (delivery/replies.py): the one email asking, claimed like
    # the others, and the supporter's answer through its signed links.
    reply_asked_at = models.DateTimeField(null=True, blank=True, editable=False)
    reply_answer = models.CharField(max_length=8, choices=ReplyAnswer.choices, blank=True)
    reply_answered_at = models.DateTimeField(null=True, blank=True, editable=False)
    ip_hash = models.CharField(max_length=64, blank=True)
    # The language the site spoke when the supporter wrote (``core/languages.py``): their
    # emails about this letter are in it; the letter itself is in the campaign's.
    language = models.CharField(max_length=LANGUAGE_MAX_LENGTH, blank=True, editable=False)
    # The languages of the letter's other versions (``LetterText``), space-separated, kept
    # by ``letters.services`` with them. Lets ``letters/texts.py`` tell without a query
    # that a recipient reads the main text, the common case: most letters have no version.
    version_languages = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["campaign", "sent_at"])]

    def __str__(self) -> str:
        return f"Letter {self.pk} in {self.campaign_id}"

    @property
    def sender_address_lines(self) -> list[str]:
        return [line.strip() for line in self.sender_address.splitlines() if line.strip()]


class LetterText(models.Model):
    """A letter written once more in another language, for the recipients who read it.

    The letter's own subject and body stay its main text (``Letter.text_language``);
    ``letters/texts.py`` chooses which text a recipient gets. Written and replaced with
    the letter by ``letters.services`` only; goes with the letter (erasure, retention).
    """

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="versions")
    # A code of the campaign's texts (``campaigns/languages.py``), never the main text's.
    language = models.CharField(max_length=10)
    subject = models.CharField(max_length=200)
    # Kept with its placeholders, like ``Letter.body``.
    body = models.TextField()
    uniqueness = models.PositiveSmallIntegerField(
        default=0, help_text=_("Percent in the supporter's own words, against this language's template.")
    )

    class Meta:
        ordering = ["language"]
        constraints = [models.UniqueConstraint(fields=["letter", "language"], name="one_letter_text_a_language")]

    def __str__(self) -> str:
        return f"Letter {self.letter_id} in {self.language}"


class ComposerOpenedDay(models.Model):
    """Kept counter: how many times a campaign's composer was opened on one day.

    The first step of the campaign's results funnel. Nothing of the visitor is kept (no
    cookie, no address, no hash): only the count. Web workers add up the openings in
    memory and write them a few seconds apart (``letters/composer_counts.py``), so the
    composer costs no write per view.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "day"], name="one_composer_count_a_day")]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.day}: {self.count}"


class LetterTallyKind(models.TextChoices):
    SAVED = "saved", _("Letters saved")  # key ""
    COUNTRY = "country", _("Letters by the sender's country")  # key: the country code, "" unknown
    OWN_WORDS = "own_words", _("Letters by own-words bucket")  # key: the bucket's index (letters.tallies)
    OWN_WORDS_SUM = "words_sum", _("Sum of the own-words percentages")  # key "": the mean's numerator
    DAY = "day", _("Letters saved on a day")  # key: the day, ISO, in the site's time zone


class LetterTally(models.Model):
    """Kept counts of a campaign's letters, for its results page (``letters/tallies.py``).

    Moved by ``letters.services`` in the transaction that saves, edits or deletes a
    letter; never counted per request.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=LetterTallyKind.choices)
    key = models.CharField(max_length=16, blank=True)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "kind", "key"], name="one_letter_tally_row")]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.kind} {self.key}: {self.count}"
