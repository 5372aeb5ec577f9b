"""Deliveries: one letter (or one member's hand-in pack) to one recipient through one channel,
with its evidence."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from undersigned.campaigns.enums import Channel
from undersigned.campaigns.models import Recipient
from undersigned.core.models import TimeStampedModel
from undersigned.letters.models import Letter

from . import job_errors


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    RETRY = "retry", _("Retry scheduled")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    BOUNCED = "bounced", _("Bounced")
    REPORTED = "reported", _("Reported by the supporter")


class Evidence(models.IntegerChoices):
    """How sure we are that a delivery happened; a delivery only ever climbs this ladder."""

    NONE = 0, _("None yet")
    SELF_REPORTED = 10, _("Self-reported")
    VERIFIED_COPY = 20, _("Verified copy")
    PLATFORM_DELIVERED = 30, _("Platform delivered")
    REPLY_RECEIVED = 40, _("Reply received")


class Delivery(TimeStampedModel):
    letter = models.ForeignKey(Letter, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    # Empty only for an update's email, which goes to ``supporter`` instead.
    recipient = models.ForeignKey(Recipient, null=True, blank=True, on_delete=models.PROTECT, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    evidence = models.PositiveSmallIntegerField(choices=Evidence.choices, default=Evidence.NONE)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    message_id = models.CharField(max_length=250, blank=True)
    reported_at = models.DateTimeField(null=True, blank=True)
    # Email channel: the supporter asked for a copy of what we send (Cc).
    copy_to_sender = models.BooleanField(default=False)
    # Email engine: when to try again, when the current attempt began (a sweeper
    # returns attempts older than a few minutes to the queue), the server's answer.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sending_started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    smtp_response = models.CharField(max_length=500, blank=True)
    # Proof for mailto: the copy that came back to the letter's BCC address.
    copy_text = models.TextField(blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    # A member's hand-in pack emailed to it (then ``letter`` is empty): openletters.HandInPack.
    hand_in_pack = models.ForeignKey(
        "openletters.HandInPack", null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    # An organisation's update emailed to one supporter (then ``letter`` and ``recipient``
    # are empty): openletters.Update, one per supporter.
    update = models.ForeignKey(
        "openletters.Update", null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    supporter = models.ForeignKey(
        "supporters.Supporter", null=True, blank=True, on_delete=models.CASCADE, related_name="update_deliveries"
    )
    # For recipients who take a daily digest: the digest that carried this letter.
    digest = models.ForeignKey("Digest", null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries")

    class Meta:
        verbose_name_plural = _("deliveries")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "recipient", "channel"], name="one_delivery_per_channel"),
            models.UniqueConstraint(
                fields=["hand_in_pack", "channel"],
                name="one_pack_delivery_per_channel",
                condition=models.Q(hand_in_pack__isnull=False),
            ),
            # An update goes to each supporter once, however often its fan-out runs.
            models.UniqueConstraint(
                fields=["update", "supporter"],
                name="one_update_delivery_per_supporter",
                condition=models.Q(update__isnull=False),
            ),
            # A delivery carries exactly one of a letter, a hand-in pack or an update; a
            # letter and a pack go to a recipient, an update to a supporter.
            models.CheckConstraint(
                condition=models.Q(
                    letter__isnull=False, hand_in_pack__isnull=True, update__isnull=True, recipient__isnull=False
                )
                | models.Q(
                    letter__isnull=True, hand_in_pack__isnull=False, update__isnull=True, recipient__isnull=False
                )
                | models.Q(
                    letter__isnull=True,
                    hand_in_pack__isnull=True,
                    update__isnull=False,
                    recipient__isnull=True,
                    supporter__isnull=False,
                ),
                name="delivery_carries_one_thing",
            ),
        ]
        indexes = [
            models.Index(fields=["channel", "status"]),
            # The email engine's queue in the order it is sent: a batch reads its first
            # rows instead of sorting every queued delivery (delivery/sending.py).
            models.Index(
                fields=["next_attempt_at", "id"],
                name="delivery_email_queue",
                condition=models.Q(channel=Channel.EMAIL, status__in=[DeliveryStatus.QUEUED, DeliveryStatus.RETRY]),
            ),
        ]

    def __str__(self) -> str:
        to = self.recipient_id if self.recipient_id is not None else f"supporter {self.supporter_id}"
        return f"{self.get_channel_display()} to {to}: {self.status}"

    @property
    def sent_letter(self) -> Letter:
        """The letter delivered: every delivery has one but a hand-in pack's email."""
        if self.letter is None:
            raise ValueError(f"delivery {self.pk} carries a hand-in pack, not a letter")
        return self.letter

    @property
    def sent_recipient(self) -> Recipient:
        """The recipient delivered to: every delivery has one but an update's email (to a supporter)."""
        if self.recipient is None:
            raise ValueError(f"delivery {self.pk} carries an update to a supporter, not a letter to a recipient")
        return self.recipient


class ReplySource(models.TextChoices):
    SUPPORTER = "supporter", _("Pasted by the supporter")
    INBOUND = "inbound", _("Received by the platform")


class Reply(TimeStampedModel):
    """A recipient's answer to a letter: the top of the evidence ladder (``delivery/replies.py``).

    Linked to its letter (erasing the letter erases its replies). Never public unless
    the supporter said it may be quoted and an organiser approved it.
    """

    letter = models.ForeignKey(Letter, on_delete=models.CASCADE, related_name="replies")
    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE, related_name="replies")
    text = models.TextField(blank=True)
    received_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=ReplySource.choices)
    may_quote = models.BooleanField(default=False)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A reply the supporter uploaded as a file: its name in the private media storage
    # (random, under ``replies/``; never served by the static files) and the type its
    # bytes showed. Deleted with the reply (``_delete_reply_file``).
    file = models.CharField(max_length=200, blank=True)
    file_type = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name_plural = _("replies")
        ordering = ["received_at", "id"]
        constraints = [
            # The supporter's paste of a reply is one per letter and recipient: sent again, it is updated.
            models.UniqueConstraint(
                fields=["letter", "recipient"],
                name="one_supporter_reply",
                condition=models.Q(source="supporter"),
            )
        ]

    def __str__(self) -> str:
        return f"Reply from {self.recipient_id} to letter {self.letter_id}"


@receiver(post_delete, sender=Reply, dispatch_uid="delivery.reply_file")
def _delete_reply_file(sender: type[Reply], instance: Reply, **kwargs: object) -> None:
    """A reply's uploaded file goes with it, however the reply goes (its letter erased,
    the supporter's data erased): once the deletion is committed, so a rollback keeps both."""
    name = instance.file
    if name:
        transaction.on_commit(lambda: default_storage.delete(name))


class DeliveryTallyKind(models.TextChoices):
    # Letters at the best evidence any of their deliveries reached (a letter with no
    # delivery is in no row: saved minus these). Key "".
    BEST = "best", _("Letters by their best evidence")
    CHANNEL = "channel", _("Deliveries by channel and evidence")  # key: the channel
    RECIPIENT = "recipient", _("Deliveries by recipient and evidence")  # key: the recipient's id
    # Letters by recipient at the best evidence their deliveries to that recipient
    # reached: a letter sent to one recipient by two channels counts once. Key: the recipient's id.
    REACHED = "reached", _("Letters by recipient and evidence")
    # Letters a recipient answered, by whole days from the letter's sending to its first
    # reply from them: the median days to a reply, read without the replies. Key
    # "<recipient id>:<days>" (days at most ``REPLY_DAYS_MAX``); evidence REPLY_RECEIVED.
    REPLY_DAYS = "reply_days", _("Answered letters by recipient and days to the reply")


class DeliveryTally(models.Model):
    """Kept counts of a campaign's deliveries and of its letters by evidence, for its
    results page and coverage board (``delivery/tallies.py``). Moved by the services in
    the transaction that creates, climbs, bounces or deletes a delivery."""

    campaign = models.ForeignKey("campaigns.Campaign", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=DeliveryTallyKind.choices)
    key = models.CharField(max_length=20, blank=True)
    evidence = models.PositiveSmallIntegerField(choices=Evidence.choices)
    count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "kind", "key", "evidence"], name="one_delivery_tally_row")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.kind} {self.key} {self.evidence}: {self.count}"


class Digest(TimeStampedModel):
    """One day's letters to a recipient who asked for a daily digest, sent as one email."""

    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="digests")
    day = models.DateField()
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["recipient", "day"], name="one_digest_a_day")]

    def __str__(self) -> str:
        return f"Digest for {self.recipient_id} on {self.day}"


class PrintJobStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Printing")
    DONE = "done", _("Ready to download")
    FAILED = "failed", _("Failed")


class PrintJobKind(models.TextChoices):
    POST = "post", _("A campaign's posted letters")
    HAND_IN = "hand_in", _("An open letter's hand-in pack")
    # Every member's pack of a letter to a recipient group, in one ZIP (openletters.handin).
    SECTIONS = "sections", _("Every section's hand-in pack")


class PrintJob(TimeStampedModel):
    """A PDF built by a worker in chunks, with progress: a campaign's post (``campaign``),
    or an open letter's hand-in pack (``open_letter``, for one ``recipient`` or all)."""

    kind = models.CharField(max_length=10, choices=PrintJobKind.choices, default=PrintJobKind.POST)
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.CASCADE, related_name="print_jobs"
    )
    open_letter = models.ForeignKey(
        "openletters.OpenLetter", null=True, blank=True, on_delete=models.CASCADE, related_name="hand_in_jobs"
    )
    recipient = models.ForeignKey(
        "campaigns.Recipient", null=True, blank=True, on_delete=models.CASCADE, related_name="hand_in_jobs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    paper = models.CharField(max_length=10, default="a4")
    status = models.CharField(max_length=10, choices=PrintJobStatus.choices, default=PrintJobStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    file = models.CharField(max_length=300, blank=True, help_text=_("Path of the PDF, relative to the media folder."))
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The organiser posted the printed letters: their deliveries were marked sent.
    posted_at = models.DateTimeField(null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    posted_count = models.PositiveIntegerField(default=0)
    # The PDF holds supporters' home addresses: housekeeping deletes it after
    # UNDERSIGNED_PRINT_RETENTION_DAYS and notes when.
    file_deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Print job {self.pk} for {self.campaign_id}: {self.status}"

    @property
    def error_text(self) -> str:
        """Why the job failed, in the active language (``error`` keeps the English)."""
        return job_errors.shown(self.error)

    @property
    def percent(self) -> int:
        return 100 if self.status == PrintJobStatus.DONE else (self.done * 100 // self.total if self.total else 0)
