"""Versions of an open letter's text: each published text is kept, unchanged, so every
endorsement can say which one it endorsed."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from undersigned.core.models import log_action
from undersigned.openletters.models import (
    OpenLetter,
    OpenLetterStatus,
    OpenLetterVersion,
)
from undersigned.openletters.text import text_hash


def record_version(*, letter: OpenLetter, actor: Any = None) -> OpenLetterVersion | None:
    """Give a published letter a new version if its title or text changed; return the new one.

    Drafts have no versions: the first is written when the letter is published. Each
    version is kept unchanged, so every endorsement can say which text it endorsed.
    """
    if letter.status == OpenLetterStatus.DRAFT:
        return None
    digest = text_hash(letter.title, letter.text)
    with transaction.atomic():
        locked = OpenLetter.objects.select_for_update(of=("self",)).select_related("current_version").get(pk=letter.pk)
        if locked.current_version is not None and locked.current_version.text_hash == digest:
            return None
        number = (locked.current_version.number if locked.current_version else 0) + 1
        version = OpenLetterVersion.objects.create(
            letter=locked, number=number, title=letter.title, text=letter.text, text_hash=digest
        )
        fields: dict[str, Any] = {"current_version": version, "updated_at": timezone.now()}
        if locked.published_at is None:
            fields["published_at"] = timezone.now()
            letter.published_at = fields["published_at"]
        OpenLetter.objects.filter(pk=letter.pk).update(**fields)
        letter.current_version = version
        log_action("open_letter.version", letter, actor=actor, version=number)
    return version
