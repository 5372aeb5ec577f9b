"""Writes for deliveries: recording how a letter went to a recipient, and sending email.

Every channel records a ``Delivery``. For the channels the supporter carries out
themselves (mailto, web form, post) it is ``reported`` with ``self_reported``
evidence when they tell us; for ``email`` it is queued and a worker sends it.
"""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from undersigned.campaigns.enums import Channel
from undersigned.campaigns.models import Campaign, Recipient
from undersigned.core.models import log_action
from undersigned.letters.models import Letter

from .models import Delivery, DeliveryStatus, Evidence


class ChannelUnavailable(Exception):
    """This channel can't carry this letter to this recipient; the message says why."""


def check_channel(*, letter: Letter, recipient: Recipient, channel: Channel) -> None:
    campaign = letter.campaign
    if channel not in campaign.template.allowed_channels:
        raise ChannelUnavailable("This campaign does not offer that way of sending.")
    if not campaign.recipients.filter(pk=recipient.pk).exists():
        raise ChannelUnavailable("That recipient is not part of this campaign.")
    if channel in (Channel.EMAIL, Channel.MAILTO) and not recipient.email:
        raise ChannelUnavailable(f"We have no email address for {recipient.name}.")
    if channel == Channel.WEB_FORM and not recipient.web_form_url:
        raise ChannelUnavailable(f"{recipient.name} has no web form.")
    if channel == Channel.POST:
        if not recipient.postal_address:
            raise ChannelUnavailable(f"We have no postal address for {recipient.name}.")
        if not letter.sender_address.strip():
            raise ChannelUnavailable("Add your postal address first: a posted letter needs a sender's address.")


def _mark_letter_sent(letter: Letter) -> None:
    # Conditional update: only the first delivery of a letter counts it, however many
    # requests race here; the campaign's counter moves by exactly one per letter.
    now = timezone.now()
    if Letter.objects.filter(pk=letter.pk, sent_at__isnull=True).update(sent_at=now):
        Campaign.objects.filter(pk=letter.campaign_id).update(letters_sent=F("letters_sent") + 1)
        letter.sent_at = now


def request_post(*, letter: Letter, recipient: Recipient) -> Delivery:
    """The supporter asks the organisation to print and post the letter for them.

    The delivery waits as ``queued`` until organisers print the campaign's post in bulk.
    If the supporter already posted it themselves, nothing changes.
    """
    if not letter.campaign.posts_for_supporters:
        raise ChannelUnavailable("This campaign's organisers don't post letters for supporters.")
    check_channel(letter=letter, recipient=recipient, channel=Channel.POST)
    with transaction.atomic():
        delivery, created = Delivery.objects.select_for_update().get_or_create(
            letter=letter, recipient=recipient, channel=Channel.POST, defaults={"status": DeliveryStatus.QUEUED}
        )
        if created:
            log_action("delivery.post_requested", delivery)
        _mark_letter_sent(letter)
    return delivery


def record_delivery(*, letter: Letter, recipient: Recipient, channel: Channel) -> Delivery:
    """Record that the letter went (or should go) to the recipient through the channel.

    Idempotent: asking twice for the same letter, recipient and channel returns the same
    delivery and counts the letter once.
    """
    check_channel(letter=letter, recipient=recipient, channel=channel)
    with transaction.atomic():
        delivery, created = Delivery.objects.select_for_update().get_or_create(
            letter=letter,
            recipient=recipient,
            channel=channel,
            defaults={"status": DeliveryStatus.QUEUED},
        )
        if channel == Channel.EMAIL:
            if created:
                log_action("delivery.queued", delivery, channel=str(channel))
                from .tasks import send_delivery

                transaction.on_commit(partial(send_delivery.enqueue, delivery.pk))
        elif delivery.reported_at is None:
            delivery.status = DeliveryStatus.REPORTED
            delivery.evidence = max(delivery.evidence, Evidence.SELF_REPORTED)
            delivery.reported_at = timezone.now()
            delivery.save(update_fields=["status", "evidence", "reported_at", "updated_at"])
            log_action("delivery.reported", delivery, channel=str(channel))
        _mark_letter_sent(letter)
    return delivery
