"""Versions of an open letter's text: each published text is kept, unchanged, so every
endorsement can say which one it endorsed. The main language and each translation have
versions of their own, numbered per language."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from undersigned.core.models import log_action
from undersigned.openletters.models import (
    OpenLetter,
    OpenLetterStatus,
    OpenLetterTranslation,
    OpenLetterVersion,
)
from undersigned.openletters.text import text_hash


def record_version(*, letter: OpenLetter, actor: Any = None) -> OpenLetterVersion | None:
    """Give a published letter a new version if its title or text changed; return the new
    one (of the main language). Each translation whose title or text changed gets a new
    version of its language too, noting the main language's version it goes with.

    Drafts have no versions: the first is written when the letter is published. Each
    version is kept unchanged, so every endorsement can say which text it endorsed.
    """
    if letter.status == OpenLetterStatus.DRAFT:
        return None
    digest = text_hash(letter.title, letter.text)
    with transaction.atomic():
        locked = OpenLetter.objects.select_for_update(of=("self",)).select_related("current_version").get(pk=letter.pk)
        version = None
        main = locked.current_version
        if main is None or main.text_hash != digest or main.language != letter.language:
            version = main = OpenLetterVersion.objects.create(
                letter=locked,
                language=letter.language,
                number=_next_number(letter, letter.language),
                title=letter.title,
                text=letter.text,
                text_hash=digest,
            )
            log_action("open_letter.version", letter, actor=actor, version=version.number, language=letter.language)
        translated = _record_translations(letter=letter, main=main, actor=actor)
        if version is None and not translated:
            return None
        fields: dict[str, Any] = {"current_version": main, "updated_at": timezone.now()}
        if locked.published_at is None:
            fields["published_at"] = timezone.now()
            letter.published_at = fields["published_at"]
        OpenLetter.objects.filter(pk=letter.pk).update(**fields)
        letter.current_version = main
    return version


def _next_number(letter: OpenLetter, language: str) -> int:
    found = OpenLetterVersion.objects.filter(letter=letter, language=language).aggregate(n=Max("number"))["n"]
    return (found or 0) + 1


def _record_translations(*, letter: OpenLetter, main: OpenLetterVersion, actor: Any) -> int:
    """A new version for each translation whose title or text changed; how many."""
    made = 0
    translations = OpenLetterTranslation.objects.filter(letter=letter).select_related("current_version")
    for translation in translations.exclude(language=letter.language):
        digest = text_hash(translation.title, translation.text)
        current = translation.current_version
        if current is not None and current.text_hash == digest:
            continue
        version = OpenLetterVersion.objects.create(
            letter_id=letter.pk,
            language=translation.language,
            number=_next_number(letter, translation.language),
            title=translation.title,
            text=translation.text,
            text_hash=digest,
            translates=main,
        )
        OpenLetterTranslation.objects.filter(pk=translation.pk).update(
            current_version=version, updated_at=timezone.now()
        )
        log_action("open_letter.version", letter, actor=actor, version=version.number, language=translation.language)
        made += 1
    return made
