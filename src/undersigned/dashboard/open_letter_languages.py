"""The open-letter editor's language tabs: the letter's title, summary and text in more
languages than its own, as the campaign editor's (``campaign_languages.py``).

The first tab is the editor itself (``open_letter_editor.py``), in the letter's main
language; each other language has a tab of its own (``open-letters/<slug>/languages/<code>/``)
and "Add a language" (``open-letters/<slug>/languages/``) opens a new one. Plain links
and forms: no JavaScript. For members who may run campaigns (``Action.RUN_CAMPAIGNS``,
as the editor); another organisation's letter is a 404. Writes go through
``openletters.services.editing`` (``save_translation``, ``remove_translation``); a
published letter's changed translation becomes a new version in its language.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from undersigned.campaigns.campaign_files.schema import LANGUAGE
from undersigned.campaigns.languages import language_name
from undersigned.openletters import queries as letter_queries
from undersigned.openletters.models import OpenLetter
from undersigned.openletters.services import editing

from .campaign_languages import removed_page, tab_address, tabs, written_in
from .editor_forms import AddLetterLanguageForm, OpenLetterTranslationForm
from .permissions import dashboard_user_required, managed_open_letter_or_404


def letter_language_tabs(letter: OpenLetter, current: str) -> list[dict[str, Any]]:
    """The open-letter editor's tabs: the main language first, then each translation."""
    return tabs(
        main_language=letter.language,
        main_url=reverse("dashboard:open_letter_edit", args=[letter.slug]),
        others=[
            (t.language, reverse("dashboard:open_letter_language", args=[letter.slug, t.language]))
            for t in letter_queries.translations_of(letter)
        ],
        current=current,
    )


@require_http_methods(["GET", "POST"])
@dashboard_user_required
def open_letter_languages(request: HttpRequest, slug: str) -> HttpResponse:
    """ "Add a language": a code, checked, then that language's tab to write its text in."""
    letter = managed_open_letter_or_404(request.user, slug)
    languages = [t.language for t in letter_queries.translations_of(letter)]
    form = AddLetterLanguageForm(
        request.POST if request.method == "POST" else None, main_language=letter.language, languages=languages
    )
    if request.method == "POST" and form.is_valid():
        return HttpResponseRedirect(
            reverse("dashboard:open_letter_language", args=[letter.slug, form.cleaned_data["language"]])
        )
    context = {
        "letter": letter,
        "organisation": letter.organisation,
        "form": form,
        "tabs": letter_language_tabs(letter, ""),
        "open_letter_tabs": True,
        "adding": True,
    }
    return render(request, "dashboard/editor/open_letter_languages.html", context, status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@dashboard_user_required
def open_letter_language(request: HttpRequest, slug: str, language: str) -> HttpResponse:
    """One language's tab: write, change or remove the letter's text in ``language``."""
    letter = managed_open_letter_or_404(request.user, slug)
    main_url = reverse("dashboard:open_letter_edit", args=[letter.slug])
    translation = letter_queries.translation_of(letter, language) if LANGUAGE.fullmatch(language) else None
    elsewhere = tab_address(
        language,
        main_language=letter.language,
        saved_language=translation.language if translation is not None else None,
        main_url=main_url,
        tab_url=lambda code: reverse("dashboard:open_letter_language", args=[letter.slug, code]),
    )
    if elsewhere is not None:
        return elsewhere
    if request.method == "POST" and request.POST.get("action") == "remove":
        removed = editing.remove_translation(letter=letter, language=language, actor=request.user)
        return removed_page(request, removed=removed, language=language, main_url=main_url)
    if request.method == "POST":
        return _save(request, letter, language, saved=translation is not None)
    # A new language starts as a copy of the main language's text, to translate in place.
    source: Any = translation or letter
    initial = {"title": source.title, "summary": source.summary, "text": source.text}
    return _page(request, letter, language, OpenLetterTranslationForm(initial=initial), translation=translation)


def _save(request: HttpRequest, letter: OpenLetter, language: str, *, saved: bool) -> HttpResponse:
    form = OpenLetterTranslationForm(request.POST)
    if form.is_valid():
        try:
            created, number = editing.save_translation(
                letter=letter, language=language, data=form.to_input(), actor=request.user
            )
        except editing.TranslationRefused:
            form.add_error(None, _("This letter cannot take a text in %(language)s.") % {"language": language})
        else:
            if number is not None:
                messages.success(
                    request,
                    _("Saved as version %(number)d of the text in %(language)s.")
                    % {"number": number, "language": language},
                )
            elif created:
                messages.success(request, _("The text in %(language)s is saved.") % {"language": language})
            else:
                messages.success(request, _("Saved."))
            return HttpResponseRedirect(reverse("dashboard:open_letter_language", args=[letter.slug, language]))
    # What was typed stays, each problem beside its field.
    translation = letter_queries.translation_of(letter, language) if saved else None
    return _page(request, letter, language, form, translation=translation, status=400)


def _page(
    request: HttpRequest,
    letter: OpenLetter,
    language: str,
    form: OpenLetterTranslationForm,
    *,
    translation: Any,
    status: int = 200,
) -> HttpResponse:
    found = letter_language_tabs(letter, language)
    if translation is None:
        # The tab of a language being added, not saved yet, shows among the others.
        found.append(
            {"language": language, "name": language_name(language), "main": False, "url": request.path, "current": True}
        )
    written_in(form, language)
    context = {
        "letter": letter,
        "organisation": letter.organisation,
        "form": form,
        "language": language,
        "language_name": language_name(language, in_sentence=True),
        "saved": translation is not None,
        "version": translation.current_version if translation is not None else None,
        "tabs": found,
        "open_letter_tabs": True,
    }
    return render(request, "dashboard/editor/open_letter_language.html", context, status=status)
