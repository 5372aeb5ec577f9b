"""Which of a letter's texts a recipient reads.

A letter has its main text (``Letter.subject``/``body``, in ``Letter.text_language``) and,
when its supporter wrote it once per language, a ``LetterText`` for each other language.
A recipient reads the version in their language (``Recipient.language``: the same code,
else its primary language, as ``campaigns.languages.find_language``), else the main
text. Every channel asks here, through ``letters.queries.text_for``, so the email, the
PDF, the digest and the web-form copy of one recipient carry the same text.

``Letter.version_languages`` lists the versions' codes: a letter without versions, or a
recipient whose language has none, costs no query. ``preload_versions`` loads the
versions of a batch of letters in one query.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import prefetch_related_objects

from undersigned.campaigns.languages import find_language

from .models import Letter, LetterText


@dataclass(frozen=True)
class ChosenText:
    """One of a letter's texts: its language, subject and body (with placeholders)."""

    language: str
    subject: str
    body: str
    main: bool


def pick_language(main: str, others: Sequence[str], recipient_language: str) -> str:
    """The language of the text a recipient who reads ``recipient_language`` gets: the
    main text's when it fits or nothing else does (pure: the composer asks it too)."""
    if not others:
        return main
    return find_language([main, *others], recipient_language) or main


def main_language(letter: Letter) -> str:
    return letter.text_language or letter.campaign.language


def version_codes(letter: Letter) -> list[str]:
    return letter.version_languages.split()


def main_text(letter: Letter) -> ChosenText:
    return ChosenText(main_language(letter), letter.subject, letter.body, main=True)


def text_in(letter: Letter, recipient_language: str) -> ChosenText:
    """The letter's text for a recipient who reads ``recipient_language``."""
    main = main_text(letter)
    wanted = pick_language(main.language, version_codes(letter), recipient_language)
    if wanted == main.language:
        return main
    # The versions preloaded with the letter (``preload_versions``), else one query.
    version = next((v for v in letter.versions.all() if v.language == wanted), None)
    if version is None:  # changed since the letter was read: the main text is still right
        return main
    return ChosenText(version.language, version.subject, version.body, main=False)


def all_texts(letter: Letter) -> list[ChosenText]:
    """The main text, then each version by language."""
    versions = letter.versions.all() if letter.version_languages else []
    return [main_text(letter), *(ChosenText(v.language, v.subject, v.body, main=False) for v in versions)]


def preload_versions(letters: Iterable[Letter | None]) -> None:
    """Load the versions of those of ``letters`` that have any, in one query (none when
    no letter has a version), so ``text_in`` reads no row per letter."""
    having = [letter for letter in letters if letter is not None and letter.version_languages]
    if having:
        prefetch_related_objects(having, "versions")


def versions_of(letter: Letter) -> list[LetterText]:
    return list(letter.versions.all()) if letter.version_languages else []
