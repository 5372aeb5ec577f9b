"""``Campaign.updated_at`` moves whenever anything its public pages show changes.

Web workers keep each campaign's page data between requests and check, per request,
only the campaign's own row (``queries.campaign_page_stamp``). So an edit to what the
pages show but stored elsewhere (the letter template, a translation, a recipient, the list of
recipients, the organisation's name) touches the campaign too. Edits through ``save()``
and ``delete()`` (the admin, imports, services) send these signals; ``QuerySet.update()``
and ``bulk_create()`` of those models do not, and must touch the campaign themselves.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from undersigned.organisations.models import Organisation

from .models import Campaign, CampaignRecipient, CampaignTranslation, LetterTemplate, Recipient


def touch_campaigns(**lookup: Any) -> None:
    Campaign.objects.filter(**lookup).update(updated_at=timezone.now())


@receiver([post_save, post_delete], sender=LetterTemplate, dispatch_uid="campaign-page-template")
@receiver([post_save, post_delete], sender=CampaignRecipient, dispatch_uid="campaign-page-recipients")
@receiver([post_save, post_delete], sender=CampaignTranslation, dispatch_uid="campaign-page-translation")
def _campaign_part_changed(
    sender: Any, instance: LetterTemplate | CampaignRecipient | CampaignTranslation, **kwargs: Any
) -> None:
    touch_campaigns(pk=instance.campaign_id)


@receiver(post_save, sender=Recipient, dispatch_uid="campaign-page-recipient")
def _recipient_changed(sender: Any, instance: Recipient, **kwargs: Any) -> None:
    touch_campaigns(recipients=instance)


@receiver(post_save, sender=Organisation, dispatch_uid="campaign-page-organisation")
def _organisation_changed(sender: Any, instance: Organisation, created: bool, **kwargs: Any) -> None:
    if not created:
        touch_campaigns(organisation=instance)
