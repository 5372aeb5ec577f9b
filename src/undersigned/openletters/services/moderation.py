"""Organisers' acts on an open letter's endorsements: hide and restore with a reason from
a fixed list, feature, and the proof-of-work switch for the endorsement form."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from undersigned.core.models import log_action
from undersigned.openletters.models import (
    Endorsement,
    OpenLetter,
)

from .counters import save_with_counters, state_of


def set_pow_required(*, letter: OpenLetter, required: bool, actor: Any) -> None:
    with transaction.atomic():
        OpenLetter.objects.filter(pk=letter.pk).update(pow_required=required, updated_at=timezone.now())
        letter.pow_required = required
        log_action("open_letter.pow_required", letter, actor=actor, required=required)


class HideReason:
    FAKE = "fake"
    ABUSIVE = "abusive"
    DUPLICATE = "duplicate"
    OTHER = "other"
    CHOICES = (
        (FAKE, gettext_lazy("Fake or impersonating name")),
        (ABUSIVE, gettext_lazy("Abusive or offensive")),
        (DUPLICATE, gettext_lazy("Duplicate of another endorsement")),
        (OTHER, gettext_lazy("Other reason")),
    )


def hide(*, endorsement: Endorsement, reason: str, actor: Any) -> None:
    """Hide an endorsement from the page, the count and hand-in packs, with a reason."""
    with transaction.atomic():
        locked = Endorsement.objects.select_for_update().get(pk=endorsement.pk)
        if locked.hidden:
            return
        before = state_of(locked)
        locked.hidden = True
        locked.hidden_reason = reason
        locked.featured = False
        save_with_counters(locked, before)
        log_action("endorsement.hidden", locked, actor=actor, letter=locked.letter_id, reason=reason)


def restore(*, endorsement: Endorsement, reason: str, actor: Any) -> None:
    with transaction.atomic():
        locked = Endorsement.objects.select_for_update().get(pk=endorsement.pk)
        if not locked.hidden:
            return
        before = state_of(locked)
        locked.hidden = False
        locked.hidden_reason = ""
        save_with_counters(locked, before)
        log_action("endorsement.restored", locked, actor=actor, letter=locked.letter_id, reason=reason)


def set_featured(*, endorsement: Endorsement, featured: bool, actor: Any) -> bool:
    """Feature (or stop featuring) a publicly named endorsement; False if it is not named."""
    with transaction.atomic():
        locked = Endorsement.objects.select_for_update().get(pk=endorsement.pk)
        if featured and not locked.is_listed:
            return False
        Endorsement.objects.filter(pk=locked.pk).update(featured=featured, updated_at=timezone.now())
        OpenLetter.objects.filter(pk=locked.letter_id).update(updated_at=timezone.now())
        log_action("endorsement.featured" if featured else "endorsement.unfeatured", locked, actor=actor)
    return True
