"""Seeing which language an email or a page was built in.

``templates_that_print_the_language`` puts templates of the same names first in the
template search path (a real template directory, found by Django's real loader), each
printing the language active while it renders, so a test reads in the email which
language the send path switched to. The platform's wording and Django's own catalogue
are not needed for that.

``pseudo_translations`` makes languages answer every message as ``⟦message⟧``: a test
sees that a text went through gettext, in that language, without waiting for the
catalogues to hold its message (tests/web/test_untranslated.py walks every page so).
"""

from __future__ import annotations

import copy
import functools
import gettext as gettext_module
from pathlib import Path
from typing import Any

import django_countries
import pytest
from django.utils.translation import trans_real

from undersigned.core import countries

PRINTS_THE_LANGUAGE = "{% load i18n %}{% get_current_language as language %}[language: {{ language }}]\n"


def templates_that_print_the_language(settings: Any, folder: Path, *names: str) -> None:
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PRINTS_THE_LANGUAGE)
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [folder, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates


OPEN, CLOSE = "⟦", "⟧"


class PseudoTranslation(gettext_module.NullTranslations):
    """Every message marked ``⟦…⟧``; context (pgettext's ``context\\x04message``) dropped."""

    def __init__(self, language: str) -> None:
        super().__init__()
        self._language = language
        self.plural = lambda n: int(n != 1)

    @staticmethod
    def _mark(message: str) -> str:
        return f"{OPEN}{message.rpartition(trans_real.CONTEXT_SEPARATOR)[2]}{CLOSE}"

    def gettext(self, message: str) -> str:
        return self._mark(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return self._mark(msgid1 if n == 1 else msgid2)

    def language(self) -> str:
        return self._language

    def to_language(self) -> str:
        return self._language


def pseudo_translations(monkeypatch: pytest.MonkeyPatch, *languages: str) -> None:
    """``languages`` answer in pseudo-translation until the test ends (Django's table of
    translation objects, by language, is where ``activate`` finds them)."""
    # Country names are kept per language for the process, by django-countries and by
    # core/countries.py: fresh keeps for the test, so no name kept before answers in it
    # and no pseudo-translated one outlives it.
    monkeypatch.setattr(django_countries.countries, "_iter_cache", {}, raising=False)
    for name in ("_options", "_names", "_options_html"):
        monkeypatch.setattr(countries, name, functools.cache(getattr(countries, name).__wrapped__))
    for language in languages:
        monkeypatch.setitem(trans_real._translations, language, PseudoTranslation(language))  # type: ignore[attr-defined]
    monkeypatch.setattr(trans_real, "_default", None)
    # A real translation active from before would answer until the next activate().
    monkeypatch.delattr(trans_real._active, "value", raising=False)  # type: ignore[attr-defined]
