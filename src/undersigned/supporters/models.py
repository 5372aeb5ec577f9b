"""Supporters and what they agreed to."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from undersigned.core.languages import LANGUAGE_MAX_LENGTH
from undersigned.core.models import TimeStampedModel

# An anonymised supporter keeps an address that names nobody and is never delivered
# (``.invalid`` is reserved, RFC 2606): ``services.erased_email``.
ERASED_EMAIL_SUFFIX = "@invalid"


def erased(prefix: str = "") -> models.Q:
    """Matches the anonymised supporters; ``prefix`` reaches them through a relation
    (``"supporter__"``). Whatever emails supporters excludes them."""
    return models.Q(**{f"{prefix}email__endswith": ERASED_EMAIL_SUFFIX})


class Supporter(TimeStampedModel):
    """A person who acts. One row per normalised email address."""

    email = models.EmailField(unique=True, help_text=_("Stored lower-cased."))
    name = models.CharField(max_length=120)
    town = models.CharField(max_length=120, blank=True)
    country = models.CharField(max_length=2, blank=True)
    postal_address = models.TextField(blank=True, max_length=500)

    def __str__(self) -> str:
        return self.name

    @property
    def address_lines(self) -> list[str]:
        return [line.strip() for line in self.postal_address.splitlines() if line.strip()]


class ConsentPurpose(models.TextChoices):
    CAMPAIGN_UPDATES = "campaign_updates", _("Updates about this campaign")
    OPEN_LETTER_UPDATES = "open_letter_updates", _("Updates about this open letter")
    REPLY_NOTIFICATIONS = "reply_notifications", _("Emails when someone replies to my comments")
    # Only ever withdrawn (the unsubscribe link in an update): no more updates from the
    # organisation about any of its campaigns or open letters (supporters/updates.py).
    ORGANISATION_UPDATES = "organisation_updates", _("Updates from this organisation")


class ConsentRecord(models.Model):
    """Append-only: a new row for every grant or withdrawal, with the exact wording shown."""

    supporter = models.ForeignKey(Supporter, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=40, choices=ConsentPurpose.choices)
    granted = models.BooleanField()
    wording = models.TextField()
    # The language the wording was shown in (``wording`` is recorded in it, as shown).
    language = models.CharField(max_length=LANGUAGE_MAX_LENGTH, blank=True)
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    open_letter = models.ForeignKey(
        "openletters.OpenLetter", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=80, help_text=_("Where it was given, e.g. thank-you page."))
    ip_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.purpose}: {'granted' if self.granted else 'withdrawn'}"
