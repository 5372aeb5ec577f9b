"""Organisations run campaigns and own their data; members act for them by role."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from undersigned.core.models import TimeStampedModel


class Organisation(TimeStampedModel):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=200)
    website = models.URLField(blank=True)
    # Shown as "Ana Ruiz via <short_name>" in letters the platform sends.
    short_name = models.CharField(max_length=60, blank=True)
    # Set by an owner on the organisation's settings page: members without TOTP two-factor
    # may do nothing for the organisation until they set it up (``access``).
    require_two_factor = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def display_short_name(self) -> str:
        return self.short_name or self.name


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ORGANISER = "organiser", _("Organiser")
    MODERATOR = "moderator", _("Moderator")


class Membership(TimeStampedModel):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ORGANISER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation", "user"], name="one_membership_per_user")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.organisation}"


class Invitation(TimeStampedModel):
    """An email invitation to join an organisation with a role.

    The link in the email carries the row's id and ``nonce``, signed with the secret key
    (``organisations.invitations``): sending the invitation again makes a new nonce, so
    an earlier link stops working. An invitation is open until it is accepted, revoked or
    past ``expires_at``; one open invitation per address and organisation.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=254)
    email_key = models.CharField(max_length=254)  # the address in lower case, for comparing
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ORGANISER)
    nonce = models.CharField(max_length=32)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "email_key"],
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_address",
            )
        ]

    def __str__(self) -> str:
        return f"Invitation {self.pk} to {self.organisation_id}"

    def is_open(self, now: datetime) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > now
