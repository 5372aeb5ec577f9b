"""Open letters, their fixed text versions and the endorsements people confirm.

Counters are kept, never counted per request: ``OpenLetter.verified_count`` (confirmed,
not withdrawn, not hidden), ``withdrawn_count`` and ``EndorsementCountry.count`` move
with ``F()`` updates in ``services`` whenever an endorsement changes state, so the
letter page costs the same with a million endorsements as with none.

``Endorsement.is_listed`` is kept by the services too: it is true exactly when the
endorsement may be named on the public page and in hand-in packs (confirmed, public,
not hidden). One indexed column lets the public list, its country filter and its
keyset pagination use one index each.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from undersigned.campaigns.models import Campaign, Recipient, RecipientGroup
from undersigned.core import countries
from undersigned.core.languages import LANGUAGE_MAX_LENGTH
from undersigned.core.models import TimeStampedModel
from undersigned.organisations.models import Organisation

STATEMENT_MAX_CHARS = 500


class OpenLetterStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published, open for endorsement")
    CLOSED = "closed", _("Closed")
    # Gone from the lists; its pages answer 404 as a draft's do. Its versions and
    # endorsements are kept.
    ARCHIVED = "archived", _("Archived")


class OpenLetter(TimeStampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="open_letters")
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(max_length=1000, blank=True)
    text = models.TextField(
        help_text=_("Markdown. Raw HTML is not allowed. Once published, a change makes a new version.")
    )
    status = models.CharField(max_length=10, choices=OpenLetterStatus.choices, default=OpenLetterStatus.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True, help_text=_("Publication date."))
    deadline = models.DateTimeField(null=True, blank=True)
    tags = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=10, default="en")
    authors = models.JSONField(
        default=list, blank=True, help_text=_('A list of {"name": …, "role": …, "place": …}, in the order shown.')
    )
    recipients = models.ManyToManyField(Recipient, blank=True, related_name="open_letters")
    recipient_group = models.ForeignKey(
        RecipientGroup, null=True, blank=True, on_delete=models.SET_NULL, related_name="open_letters"
    )
    letter_campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="open_letters",
        help_text=_("A letter campaign whose composer “Write your own letter in similar terms” starts."),
    )
    pow_required = models.BooleanField(
        "proof-of-work challenge",
        default=False,
        help_text=_("Ask every endorser's browser to solve a small puzzle: switch on during an attack by bots."),
    )
    current_version = models.ForeignKey(
        "OpenLetterVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    # Kept counters (see the module docstring).
    verified_count = models.PositiveIntegerField(default=0, editable=False)
    withdrawn_count = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-published_at", "-created_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        if self.status != OpenLetterStatus.PUBLISHED:
            return False
        return self.deadline is None or self.deadline > timezone.now()


class OpenLetterVersion(models.Model):
    """The letter's text in one language as published; never changed once written.

    Versions are numbered per language: the main language's (``OpenLetter.language``,
    ``OpenLetter.current_version``) and each translation's (``OpenLetterTranslation``).
    A translation's version says which main-language version it was translated from
    (``translates``), so a pack can say "the French text, version 2, a translation of
    the English text, version 3".
    """

    letter = models.ForeignKey(OpenLetter, on_delete=models.CASCADE, related_name="versions")
    language = models.CharField(max_length=LANGUAGE_MAX_LENGTH)
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    text = models.TextField()
    text_hash = models.CharField(max_length=64, help_text=_("SHA-256 of the title and text."))
    translates = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.RESTRICT, related_name="translations", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["letter", "language", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["letter", "language", "number"], name="one_version_number_per_letter_language"
            )
        ]

    def __str__(self) -> str:
        return f"{self.letter_id} {self.language} v{self.number}"


class OpenLetterTranslation(TimeStampedModel):
    """An open letter's title, summary and text in one more language (one of
    ``settings.LANGUAGES``, never the letter's main one), at most one per language.

    Like the main text, a published translation's text is fixed in versions of its own
    language (``services.versions.record_version``); ``current_version`` is the one its
    page shows and its endorsers endorse.
    """

    letter = models.ForeignKey(OpenLetter, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=LANGUAGE_MAX_LENGTH)
    title = models.CharField(max_length=200)
    summary = models.TextField(max_length=1000, blank=True)
    text = models.TextField(help_text=_("Markdown. Raw HTML is not allowed."))
    current_version = models.ForeignKey(
        OpenLetterVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    class Meta:
        ordering = ["language"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "language"], name="one_open_letter_translation_per_language")
        ]

    def __str__(self) -> str:
        return f"{self.letter_id} ({self.language})"


class EndorserKind(models.TextChoices):
    PERSON = "person", _("A person")
    ORGANISATION = "organisation", _("An organisation")


class EndorsementStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for email confirmation")
    CONFIRMED = "confirmed", _("Confirmed")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Endorsement(TimeStampedModel):
    """One person's (or organisation's) endorsement of one letter: one per normalised email."""

    letter = models.ForeignKey(OpenLetter, on_delete=models.CASCADE, related_name="endorsements")
    kind = models.CharField(max_length=12, choices=EndorserKind.choices, default=EndorserKind.PERSON)
    # For an organisation: its name; ``signatory`` and ``role`` say who signs for it.
    name = models.CharField(max_length=120)
    role = models.CharField("role or title", max_length=120, blank=True)
    organisation = models.CharField(max_length=160, blank=True)
    country = models.CharField(max_length=2, blank=True)
    statement = models.TextField(blank=True, validators=[MaxLengthValidator(STATEMENT_MAX_CHARS)])
    website = models.URLField(blank=True, max_length=300)
    signatory = models.CharField("signed for the organisation by", max_length=120, blank=True)
    email = models.EmailField(max_length=254, help_text=_("Never shown."))
    email_normalised = models.CharField(max_length=254)
    show_publicly = models.BooleanField(default=True)
    wants_updates = models.BooleanField(default=False)
    # The language the site spoke when they endorsed (``core/languages.py``): their emails are in it.
    language = models.CharField(max_length=LANGUAGE_MAX_LENGTH, blank=True, editable=False)

    status = models.CharField(max_length=10, choices=EndorsementStatus.choices, default=EndorsementStatus.PENDING)
    is_listed = models.BooleanField(default=False, editable=False)
    hidden = models.BooleanField(default=False, editable=False)
    hidden_reason = models.CharField(max_length=300, blank=True, editable=False)
    featured = models.BooleanField(default=False, editable=False)
    # Name, organisation and signatory folded by ``text.search_text`` (case, accents,
    # apostrophes and punctuation), for the searches of the public list and the dashboard.
    search_text = models.CharField(max_length=420, blank=True, editable=False)

    # Indexed by ``endorsement_listed_version`` (which begins with it).
    version = models.ForeignKey(
        OpenLetterVersion, on_delete=models.PROTECT, related_name="endorsements", db_index=False
    )
    text_hash = models.CharField(max_length=64, help_text=_("Hash of the version's text when it was endorsed."))

    # Double opt-in: the link and the code both derive from this nonce (services).
    confirm_nonce = models.CharField(max_length=32, blank=True, editable=False)
    confirm_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    confirmation_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Signing again with a confirmed address: the new details wait here for confirmation.
    pending_update = models.JSONField(null=True, blank=True, editable=False)
    withdraw_secret = models.CharField(max_length=32, editable=False)
    confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    ip_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "email_normalised"], name="one_endorsement_per_email"),
        ]
        indexes = [
            # The public list, newest first, paged by id; and the same per country.
            models.Index(fields=["letter", "is_listed", "-id"], name="endorsement_listed"),
            models.Index(fields=["letter", "is_listed", "country", "-id"], name="endorsement_listed_country"),
            models.Index(fields=["letter", "featured"], name="endorsement_featured"),
            # Hand-in packs: the named endorsers of one version, in the order they endorsed.
            models.Index(fields=["version", "is_listed", "id"], name="endorsement_listed_version"),
            models.Index(fields=["status", "confirm_expires_at"], name="endorsement_expiry"),
        ]

    def __str__(self) -> str:
        return f"Endorsement {self.pk} of {self.letter_id} ({self.status})"

    @property
    def country_name(self) -> str:
        return countries.name(self.country)


class EndorsementCountry(models.Model):
    """Kept counter: verified endorsements of a letter from one country (named or not)."""

    letter = models.ForeignKey(OpenLetter, on_delete=models.CASCADE, related_name="country_counts")
    country = models.CharField(max_length=2, blank=True)
    count = models.IntegerField(default=0)
    listed = models.IntegerField(default=0, help_text=_("Of which named publicly."))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["letter", "country"], name="one_count_per_country")]

    def __str__(self) -> str:
        return f"{self.letter_id} {self.country}: {self.count}"


class EndorsementTallyKind(models.TextChoices):
    HIDDEN = "hidden", _("Hidden by a moderator")  # key "", any status
    PENDING = "pending", _("Waiting for email confirmation")  # key "", not hidden
    CONFIRMED_DAY = "day", _("Confirmed on a day")  # key: the day, ISO, in the site's time zone


class EndorsementTally(models.Model):
    """Kept counts of a letter's endorsements for its results page, beside the letter's
    own counters (``verified_count``, ``withdrawn_count``) and ``EndorsementCountry``:
    moved by ``services.counters`` with every change of an endorsement's state. A row of
    its own, so a new endorsement waiting for confirmation does not touch the letter's
    row (whose ``updated_at`` keys the public page's kept copy)."""

    letter = models.ForeignKey(OpenLetter, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=EndorsementTallyKind.choices)
    key = models.CharField(max_length=16, blank=True)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["letter", "kind", "key"], name="one_endorsement_tally_row")]

    def __str__(self) -> str:
        return f"{self.letter_id} {self.kind} {self.key}: {self.count}"


class HandedInHow(models.TextChoices):
    EMAIL = "email", _("By email from the platform")
    IN_PERSON = "in_person", _("In person")
    POST = "post", _("By post")
    OTHER = "other", _("Another way")


class HandInPack(TimeStampedModel):
    """One member's hand-in pack of a letter addressed to a recipient group, and how it
    was handed in: built by a batch (``job``, a ``delivery.PrintJob`` of kind "sections"
    whose ZIP holds it under ``arcname``), emailed through the delivery engine (a
    ``delivery.Delivery`` with ``hand_in_pack``) or handed in another way, recorded by the
    organiser. ``evidence`` climbs the same ladder as a letter's (``delivery.Evidence``)."""

    letter = models.ForeignKey(OpenLetter, on_delete=models.CASCADE, related_name="hand_in_packs")
    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE, related_name="hand_in_packs")
    job = models.ForeignKey(
        "delivery.PrintJob", null=True, blank=True, on_delete=models.SET_NULL, related_name="hand_in_packs"
    )
    built_at = models.DateTimeField(null=True, blank=True)
    verified = models.PositiveIntegerField(default=0)  # verified endorsements from the member's country
    named = models.PositiveIntegerField(default=0)  # of which named in the pack
    # While the batch builds: where this member's PDF and CSV wait to go into the ZIP.
    pdf_part = models.CharField(max_length=300, blank=True)
    csv_part = models.CharField(max_length=300, blank=True)
    arcname = models.CharField(max_length=200, blank=True, help_text=_("Name in the batch's ZIP, without extension."))
    pdf_size = models.PositiveBigIntegerField(default=0)
    csv_size = models.PositiveBigIntegerField(default=0)
    handed_in_how = models.CharField(max_length=10, choices=HandedInHow.choices, blank=True)
    handed_in_at = models.DateTimeField(null=True, blank=True)
    evidence = models.PositiveSmallIntegerField(default=0)  # delivery.Evidence
    replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["letter", "recipient"], name="one_hand_in_pack_per_member")]

    def __str__(self) -> str:
        return f"Hand-in pack of {self.letter_id} for {self.recipient_id}"


# --- Updates: an organisation's news to the supporters of a campaign or the endorsers
# of an open letter who agreed to hear more (openletters/updates.py) ---

UPDATE_SUBJECT_MAX_CHARS = 150
UPDATE_BODY_MAX_CHARS = 20_000


class UpdateStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    # The organiser pressed send: a task builds one email per person (``Delivery.update``).
    QUEUED = "queued", _("Queued")
    # Every person's email is in the delivery engine's queue.
    SENT = "sent", _("Sent")


class Update(TimeStampedModel):
    """An update about one campaign or one open letter, in its main language and
    optionally in others (``UpdateTranslation``): each person gets the version in their
    language (``update_mail.version_for``).

    Its emails are ``delivery.Delivery`` rows (``update`` and ``supporter`` set, no
    recipient), one per person, so the engine queues, paces, retries and records them
    as it does letters.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="updates")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.CASCADE, related_name="updates")
    open_letter = models.ForeignKey(OpenLetter, null=True, blank=True, on_delete=models.CASCADE, related_name="updates")
    subject = models.CharField(max_length=UPDATE_SUBJECT_MAX_CHARS)
    body = models.TextField(validators=[MaxLengthValidator(UPDATE_BODY_MAX_CHARS)])
    language = models.CharField(max_length=10)
    # Only the supporters of these countries (ISO codes); empty: everyone who agreed.
    countries = models.JSONField(default=list, blank=True)
    # A campaign addressed to a group: only the supporters whose letter went to one of
    # these members (sections; recipient ids). Empty: everyone who agreed.
    sections = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=UpdateStatus.choices, default=UpdateStatus.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    queued_at = models.DateTimeField(null=True, blank=True)
    fanned_out_at = models.DateTimeField(null=True, blank=True)
    # How many people it reached when it was queued, and how many emails were queued.
    audience_count = models.PositiveIntegerField(default=0)
    queued_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(campaign__isnull=False, open_letter__isnull=True)
                | models.Q(campaign__isnull=True, open_letter__isnull=False),
                name="update_of_one_campaign_or_open_letter",
            )
        ]

    def __str__(self) -> str:
        return f"Update {self.pk}: {self.status}"


class UpdateTranslation(models.Model):
    """The same update in another language (one of ``settings.LANGUAGES``, never the
    update's main one): its subject and body, with the same limits. Written with the
    draft (``services.updates.save_draft``), so it never changes once the update is queued."""

    update = models.ForeignKey(Update, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=LANGUAGE_MAX_LENGTH)
    subject = models.CharField(max_length=UPDATE_SUBJECT_MAX_CHARS)
    body = models.TextField(validators=[MaxLengthValidator(UPDATE_BODY_MAX_CHARS)])

    class Meta:
        ordering = ["language"]
        constraints = [models.UniqueConstraint(fields=["update", "language"], name="update_translation_once")]

    def __str__(self) -> str:
        return f"Update {self.update_id} in {self.language}"
