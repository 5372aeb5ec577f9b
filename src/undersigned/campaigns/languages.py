"""Which language's text a letter starts from (pure: plain data in, plain data out).

A campaign's text exists in its main language (``Campaign.language``, the campaign's
summary and background and its ``LetterTemplate``) and in each ``CampaignTranslation``.
``campaign_texts`` lines them up, the main language first; ``text_in`` finds one by its
code; ``default_language`` picks the language a composer starts in from the languages
its letter's recipients read; ``reading_text`` the language a visitor reads the
campaign's page in. This is content language, the language of a letter; the
language of the site's own words is the visitor's, and decided elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.utils.translation import get_language, get_language_info


class InLanguage(Protocol):
    """Anything with a ``language`` code: a campaign's text, an open letter's."""

    @property
    def language(self) -> str: ...


@dataclass(frozen=True)
class CampaignText:
    """A campaign's page text and template letter in one language.

    A translation may leave its summary, background or prompts empty and show the main
    language's: ``summary_language``, ``background_language`` and ``prompts_language``
    say which language each part is really in (its own when left out), so a page marks
    it with the right ``lang`` and ``dir``.
    """

    language: str
    subject: str
    body: str
    prompts: tuple[str, ...]
    summary: str
    background: str
    main: bool = False
    summary_language: str = field(default="", kw_only=True)
    background_language: str = field(default="", kw_only=True)
    prompts_language: str = field(default="", kw_only=True)

    def __post_init__(self) -> None:
        for part in ("summary_language", "background_language", "prompts_language"):
            if not getattr(self, part):
                object.__setattr__(self, part, self.language)  # frozen: set once, here


def campaign_texts(*, campaign: Any, template: Any, translations: Iterable[Any]) -> tuple[CampaignText, ...]:
    """The main language's text first, then each translation (by code); what a
    translation leaves empty (summary, background, prompts) is the main language's."""
    main = CampaignText(
        language=campaign.language,
        subject=template.subject if template else "",
        body=template.body if template else "",
        prompts=tuple(str(p) for p in (template.prompts or [])) if template else (),
        summary=campaign.summary,
        background=campaign.background,
        main=True,
    )
    others = [
        CampaignText(
            language=t.language,
            subject=t.subject,
            body=t.body,
            prompts=tuple(str(p) for p in t.prompts or []) or main.prompts,
            summary=t.summary or main.summary,
            background=t.background or main.background,
            summary_language=t.language if t.summary else main.language,
            background_language=t.language if t.background else main.language,
            prompts_language=t.language if t.prompts else main.language,
        )
        for t in sorted(translations, key=lambda t: str(t.language))
    ]
    return (main, *others)


def _primary(code: str) -> str:
    return code.split("-", maxsplit=1)[0].casefold()


def find_language(codes: Sequence[str], language: str) -> str | None:
    """The code among ``codes`` for ``language``: the same code (ignoring case), else one
    of its primary language ("fr-BE" finds "fr"), else None. The first of equals wins."""
    wanted = (language or "").strip().casefold()
    if not wanted:
        return None
    for code in codes:
        if code.casefold() == wanted:
            return code
    for code in codes:
        if _primary(code) == _primary(wanted):
            return code
    return None


def find_text[T: InLanguage](texts: Sequence[T], language: str) -> T | None:
    """The text in ``language`` exactly (ignoring case), else in its primary language
    ("fr-BE" finds "fr"), else None."""
    found = find_language([text.language for text in texts], language)
    return next((text for text in texts if text.language == found), None) if found is not None else None


def text_in[T: InLanguage](texts: Sequence[T], language: str) -> T:
    """The text in ``language`` (see ``find_text``), or the main language's."""
    return find_text(texts, language) or texts[0]


def reading_text(texts: Sequence[CampaignText], *, asked: str, visitor: str) -> CampaignText:
    """The text a campaign's page shows: the one the visitor ``asked`` for (a link on the
    page) when the campaign has it, else the one in the visitor's site language, else the
    main language's. Whatever is asked, the answer is one of ``texts``."""
    return find_text(texts, asked[:20]) or text_in(texts, visitor)


def default_language(texts: Sequence[CampaignText], recipient_languages: Sequence[str]) -> str:
    """The language a letter to these recipients starts in.

    The language every recipient reads, when the campaign has its text in it; recipients
    who read different languages (or none given) get the main language, and the composer
    offers the others.
    """
    found = {find_text(texts, language) for language in recipient_languages if language}
    if len(found) == 1 and None not in found and all(recipient_languages):
        only = found.pop()
        if only is not None:
            return only.language
    return texts[0].language


# Languages that write the names of languages in lower case inside a sentence ("le texte
# en français", "el texto en inglés"), where Django's table gives them capitalised, as
# for a list ("Français"). English and German capitalise them; Arabic has no case.
LOWER_CASE_LANGUAGE_NAMES = frozenset({"ca", "cs", "es", "fr", "it", "pl", "pt", "ro", "ru", "sk", "uk"})


def language_name(code: str, *, local: bool = False, in_sentence: bool = False) -> str:
    """ "French (fr)" in the reader's language, or "français" (``local``: as its readers
    write it); the code alone when Django does not know it. ``in_sentence``: written as
    the reader's language writes a language's name inside a sentence."""
    try:
        info = get_language_info(code)
    except KeyError:
        return code
    if local:
        return str(info["name_local"])
    name = str(info["name_translated"])
    if in_sentence and (get_language() or "").split("-")[0] in LOWER_CASE_LANGUAGE_NAMES:
        name = name[:1].lower() + name[1:]
    return f"{name} ({code})"
