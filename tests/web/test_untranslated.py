"""No page shows text that did not go through gettext, and no template misses a variable.

A pseudo-translation stands in for every language while the walk of
tests/web/test_languages.py runs (every page, as the organiser and as a visitor, in French
and in Arabic): every message gettext, ngettext, pgettext or a template's
``{% translate %}`` is asked for comes back as ``⟦message⟧``. A text node people perceive
(or a ``title``, ``aria-label``, ``placeholder``, ``alt``, a submit button's ``value``)
with letters outside those brackets was never offered for translation, unless its words
are the site's own content: what the fixture site's database holds (campaign titles,
names, letters), read from every text column of every model (but the consent records'
wordings: those are the interface's words, as shown), a language's own name in the
switcher, a sign-in provider's name, the product's name. Abbreviations in capitals (PDF,
UTC), addresses and links, code (``<code>``) and what HTML marks ``translate="no"`` (the
names of other services) are not words to translate.

The pseudo-translation is an object in Django's table of translations
(tests/languages.py), not a compiled catalogue: it answers every message, also those
written since the catalogues were last regenerated, and Django's and allauth's own
(which a catalogue built from ours would leave in real French, indistinguishable here
from text in a page).

Every form of those pages with a text field is then sent back with each text field one
character over its limit, so that none is accepted: the page with its errors is held to
the same rule. The walks render with ``string_if_invalid`` set: a page using a variable
its context lacks shows the marker, and fails.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

import pytest
from allauth.socialaccount import providers
from django.apps import apps
from django.conf import settings
from django.db import models
from django.test import Client
from django.utils.translation import get_language_info

from tests.languages import CLOSE, OPEN, pseudo_translations
from undersigned.core import abuse
from undersigned.supporters.models import ConsentRecord

from .conftest import Site
from .test_languages import pages

pytestmark = pytest.mark.django_db

MARKED = re.compile(f"{OPEN}[^{CLOSE}]*{CLOSE}")
WORD = re.compile(r"[^\W\d_]+")
PERCEIVED_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}
UNSEEN_ELEMENTS = {"script", "style", "template"}
CODE_ELEMENTS = {"code", "kbd", "samp"}
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Addresses and links a page shows (a letter's reply address, a web form's URL) are not words;
# a word in capitals is an abbreviation (PDF, CSV, UTC, A4), the same in every language.
MACHINE_TEXT = re.compile(r"@|https?://")  # in a word: an address or a link
# Typed into every text field: one more than its maxlength, or more than any limit (a
# letter's is 20,000); a page shows it again as typed.
OVERLONG = "x"
TYPED = re.compile(f"(?:{OVERLONG})+")
MISSING = "MISSING-TEMPLATE-VARIABLE"
MISSING_NAMED = MISSING + "[%s]"
MISSING_NAME = re.compile(re.escape(MISSING) + r"(?:\[|%5B)(.*?)(?:\]|%5D)")
# Columns that keep the interface's own words, as a page showed them.
INTERFACE_TEXT = [ConsentRecord._meta.get_field("wording")]
# Variables allauth's own templates read without needing them (its elements' optional
# errors, its provider links' optional scope): not ours to fill.
ALLAUTH_OPTIONAL = {"attrs.errors", "scope", "auth_params"}
# The product's name, a proper noun (the header's brand, every page's <title>).
BRAND = "Undersigned"


class Texts(HTMLParser):
    """The text a person perceives in a page, outside the ``⟦…⟧`` of translated messages.

    A translated message may hold elements (a link in a sentence), so the brackets are
    followed across text nodes in document order. Content marked as not to be translated
    (HTML's ``translate="no"``: the names of other services) and code (``<code>``,
    ``<kbd>``, ``<samp>``: placeholders, commands, file names) are not read.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.outside: list[str] = []
        self._depth = 0  # inside how many ⟦
        self._skipped: list[str] = []  # open elements whose content is not read, innermost last

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if not self._skipped:
            for name, value in attrs:
                if value and name in PERCEIVED_ATTRIBUTES:
                    self.outside.append(outside_brackets(value))
            if tag == "input" and values.get("type") in {"submit", "button", "reset"} and values.get("value"):
                self.outside.append(outside_brackets(values["value"] or ""))
        if tag in VOID_ELEMENTS:
            return
        if self._skipped or tag in UNSEEN_ELEMENTS | CODE_ELEMENTS or values.get("translate") == "no":
            self._skipped.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skipped and self._skipped[-1] == tag:
            self._skipped.pop()

    def handle_data(self, data: str) -> None:
        if self._skipped:
            return
        text = []
        for char in data:
            if char == OPEN:
                self._depth += 1
            elif char == CLOSE:
                self._depth -= 1
            elif self._depth == 0:
                text.append(char)
        self.outside.append("".join(text))


def outside_brackets(text: str) -> str:
    depth, kept = 0, []
    for char in text:
        depth += (char == OPEN) - (char == CLOSE)
        if depth == 0 and char != CLOSE:
            kept.append(char)
    return "".join(kept)


def words_of(value: Any) -> Iterator[str]:
    """The words in a column's value (JSON columns: in every string they hold)."""
    if isinstance(value, str):
        yield from WORD.findall(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from words_of(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from words_of(item)


def site_words() -> set[str]:
    """Every word in the database's text columns, languages' and sign-in providers' own names."""
    words: set[str] = {BRAND}
    for code, name in settings.LANGUAGES:
        words.update(words_of([name, get_language_info(code)["name_local"]]))
    words.update(words_of([provider.name for provider in providers.registry.get_class_list()]))
    for model in apps.get_models():
        columns = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField, models.JSONField)) and f not in INTERFACE_TEXT
        ]
        for row in model._default_manager.values_list(*columns) if columns else ():
            words.update(words_of(row))
    return words


def untranslated(html: str, words: set[str]) -> Iterator[str]:
    parser = Texts()
    parser.feed(html)
    for text in parser.outside:
        machine_free = " ".join(token for token in text.split() if not MACHINE_TEXT.search(token))
        if any(
            word not in words and not word.isupper() and not TYPED.fullmatch(word)
            for word in WORD.findall(machine_free)
        ):
            yield " ".join(text.split())


@pytest.fixture
def pseudo_languages(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every language, English too: text a page shows in another language than its own
    # (an email previewed in the language it will be sent in) is marked the same way.
    pseudo_translations(monkeypatch, *(code for code, _name in settings.LANGUAGES))


@pytest.fixture
def missing_variables_marked(settings: Any) -> None:
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["OPTIONS"]["string_if_invalid"] = MISSING_NAMED
    settings.TEMPLATES = templates


# The pseudo-translation makes every language alike but for its direction and formats:
# one left-to-right language and the right-to-left one.
@pytest.mark.parametrize("language", ["fr", "ar"])
@pytest.mark.parametrize("signed_in", [True, False], ids=["organiser", "visitor"])
@pytest.mark.usefixtures("pseudo_languages", "missing_variables_marked")
def test_every_page_shows_only_translated_text_and_site_content(
    client: Client, site: Site, signed_in: bool, language: str
) -> None:
    if signed_in:
        client.force_login(site.organiser)
    words = site_words()
    problems: dict[str, list[str]] = {}
    checked = 0
    for name, response in pages(client, site, language):
        if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
            continue
        checked += 1
        if found := problems_in(response.content.decode(), words):
            problems[name] = found
    assert checked > (40 if signed_in else 20)
    assert not problems, "\n".join(f"{k}: {v}" for k, v in sorted(problems.items()))


def problems_in(html: str, words: set[str]) -> list[str]:
    """Missing variables (by name) and text outside gettext (its first words) in a page."""
    html = MISSING_NAME.sub(lambda m: "" if unquote(m.group(1)) in ALLAUTH_OPTIONAL else m.group(0), html)
    missing = sorted({f"missing variable {unquote(found)}" for found in MISSING_NAME.findall(html)})
    return missing + sorted({f"outside gettext: {text[:120]}" for text in untranslated(html, words)})


class Forms(HTMLParser):
    """The POST forms of a page, as a browser would send them with every text field overlong."""

    TEXT_TYPES = frozenset({"text", "email", "url", "search", "tel", "number", "password", None})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str], bool]] = []  # action, data, has a text field
        self._form: tuple[str, dict[str, str], list[bool]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and values.get("method", "").lower() == "post":
            self._form = (values.get("action", ""), {}, [False])
            return
        if self._form is None or "name" not in values:
            return
        _action, data, has_text = self._form
        name, kind = values["name"], values.get("type")
        if tag == "textarea" or (tag == "input" and kind in self.TEXT_TYPES and name != abuse.HONEYPOT_FIELD):
            limit = values.get("maxlength", "")
            data[name] = OVERLONG * (int(limit) + 1) if limit.isdigit() else OVERLONG * 25_000
            has_text[0] = True
        elif tag == "input" and kind == "hidden":
            data[name] = values.get("value", "")
        elif tag in {"button", "input"} and kind in {"submit", None} and name not in data:
            data[name] = values.get("value", "")  # the first submit button pressed

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            action, data, has_text = self._form
            self.found.append((action, data, has_text[0]))
            self._form = None


@pytest.mark.parametrize("signed_in", [True, False], ids=["organiser", "visitor"])
@pytest.mark.usefixtures("pseudo_languages", "missing_variables_marked")
def test_every_form_s_errors_are_translated(client: Client, site: Site, signed_in: bool) -> None:
    """Every form with a text field, sent back with every text field overlong (so none is
    accepted): the page with its errors shows no text outside gettext."""
    if signed_in:
        client.force_login(site.organiser)
    words = site_words()
    problems: dict[str, list[str]] = {}
    sent = 0
    for name, response in list(pages(client, site, "fr")):
        if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
            continue
        parser = Forms()
        parser.feed(response.content.decode())
        for action, data, has_text in parser.found:
            if not has_text:
                continue  # buttons only (publish, delete, sign out): nothing to refuse
            answer = client.post(action or response.wsgi_request.path, data, HTTP_ACCEPT_LANGUAGE="fr")
            if not answer.get("Content-Type", "").startswith("text/html"):
                continue
            sent += 1
            if found := problems_in(answer.content.decode(), words):
                problems[f"{name} → {action}"] = found
    assert sent > (15 if signed_in else 8)
    assert not problems, "\n".join(f"{k}: {v}" for k, v in sorted(problems.items()))
