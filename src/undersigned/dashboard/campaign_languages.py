"""The campaign editor's language tabs: the campaign's text in more languages than its own.

The first tab is the editor itself (``campaign_editor.py``), in the campaign's main
language; each other language has a tab of its own (``campaigns/<slug>/languages/<code>/``)
holding the template letter, prompts, summary and background in that language, and
"Add a language" (``campaigns/<slug>/languages/``) opens a new one. Plain links and
forms: it all works without JavaScript. For members who may run campaigns
(``Action.RUN_CAMPAIGNS``); another organisation's campaign is a 404. Writes go through
``campaigns.services`` (``save_translation``, ``remove_translation``).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from undersigned.campaigns import queries as campaign_queries
from undersigned.campaigns import services as campaign_services
from undersigned.campaigns.campaign_files.schema import LANGUAGE, MAX_LENGTHS
from undersigned.campaigns.languages import language_name
from undersigned.campaigns.models import Campaign
from undersigned.core.templatetags.text_direction import text_direction

from .editor_forms import PLACEHOLDERS, AddLanguageForm, TranslationForm, translation_initial
from .permissions import dashboard_user_required, managed_campaign_or_404


def tabs(*, main_language: str, main_url: str, others: list[tuple[str, str]], current: str) -> list[dict[str, Any]]:
    """Language tabs: the main language first, then each other ``(language, url)``;
    ``current`` is marked. Shared by the campaign and open-letter editors."""
    found = [
        {
            "language": main_language,
            "name": language_name(main_language),
            "main": True,
            "url": main_url,
            "current": current == main_language,
        }
    ]
    for language, url in others:
        found.append(
            {
                "language": language,
                "name": language_name(language),
                "main": False,
                "url": url,
                "current": current.casefold() == language.casefold(),
            }
        )
    return found


def tab_address(
    language: str, *, main_language: str, saved_language: str | None, main_url: str, tab_url: Any
) -> HttpResponse | None:
    """Where a language tab's address belongs, for the campaign and open-letter editors:
    a 404 for what is not a language code, the editor itself for the main language, the
    tab saved as "fr" for "FR" (``tab_url(code)``); None when the address is the tab's own."""
    if LANGUAGE.fullmatch(language) is None or len(language) > MAX_LENGTHS["campaign.language"]:
        raise Http404("No such language")
    if language.casefold() == main_language.casefold():
        return HttpResponseRedirect(main_url)
    if saved_language is not None and saved_language != language:
        # One address per tab: "FR" goes to the tab saved as "fr".
        return HttpResponseRedirect(tab_url(saved_language))
    return None


def written_in(form: forms.Form, language: str) -> None:
    """Mark a language tab's text fields with the language they are written in (``lang``
    and ``dir`` on each input), for the campaign and open-letter editors: an Arabic text
    reads right to left in its field, and is spoken as Arabic, while the labels, help
    and errors stay in the interface's language."""
    direction = text_direction(language)
    for field in form.fields.values():
        if isinstance(field.widget, (forms.TextInput, forms.Textarea)):
            field.widget.attrs.update(lang=language, dir=direction)


def removed_page(request: HttpRequest, *, removed: bool, language: str, main_url: str) -> HttpResponse:
    """After "Remove the text in …": the main editor, saying so (a second click says nothing)."""
    if removed:
        messages.success(request, _("The text in %(language)s is removed.") % {"language": language})
    return HttpResponseRedirect(main_url)


def language_tabs(campaign: Campaign, current: str) -> list[dict[str, Any]]:
    """The editor's tabs: the main language first, then each translation; ``current`` is marked."""
    return tabs(
        main_language=campaign.language,
        main_url=reverse("dashboard:campaign_edit", args=[campaign.slug]),
        others=[
            (t.language, reverse("dashboard:campaign_language", args=[campaign.slug, t.language]))
            for t in campaign_queries.translations_of(campaign)
        ],
        current=current,
    )


def _languages_url(campaign: Campaign) -> str:
    return reverse("dashboard:campaign_languages", args=[campaign.slug])


@require_http_methods(["GET", "POST"])
@dashboard_user_required
def campaign_languages(request: HttpRequest, slug: str) -> HttpResponse:
    """ "Add a language": a code, checked, then that language's tab to write its text in."""
    campaign = managed_campaign_or_404(request.user, slug)
    languages = [t.language for t in campaign_queries.translations_of(campaign)]
    form = AddLanguageForm(
        request.POST if request.method == "POST" else None, main_language=campaign.language, languages=languages
    )
    if request.method == "POST" and form.is_valid():
        return HttpResponseRedirect(
            reverse("dashboard:campaign_language", args=[campaign.slug, form.cleaned_data["language"]])
        )
    context = {
        "campaign": campaign,
        "organisation": campaign.organisation,
        "form": form,
        "tabs": language_tabs(campaign, ""),
        "adding": True,
    }
    return render(request, "dashboard/editor/languages.html", context, status=400 if form.is_bound else 200)


@require_http_methods(["GET", "POST"])
@dashboard_user_required
def campaign_language(request: HttpRequest, slug: str, language: str) -> HttpResponse:
    """One language's tab: write, change or remove the campaign's text in ``language``."""
    campaign = managed_campaign_or_404(request.user, slug)
    main_url = reverse("dashboard:campaign_edit", args=[campaign.slug])
    translation = campaign_queries.translation_of(campaign, language) if LANGUAGE.fullmatch(language) else None
    elsewhere = tab_address(
        language,
        main_language=campaign.language,
        saved_language=translation.language if translation is not None else None,
        main_url=main_url,
        tab_url=lambda code: reverse("dashboard:campaign_language", args=[campaign.slug, code]),
    )
    if elsewhere is not None:
        return elsewhere
    if request.method == "POST" and request.POST.get("action") == "remove":
        removed = campaign_services.remove_translation(campaign=campaign, language=language, actor=request.user)
        return removed_page(request, removed=removed, language=language, main_url=main_url)
    if request.method == "POST":
        return _save(request, campaign, language, saved=translation is not None)
    if translation is not None:
        initial = translation_initial(translation, summary=translation.summary, background=translation.background)
    else:
        # A new language starts as a copy of the main language's text, to translate in place.
        initial = translation_initial(
            campaign_queries.template_of(campaign), summary=campaign.summary, background=campaign.background
        )
    return _page(request, campaign, language, TranslationForm(initial=initial), saved=translation is not None)


def _save(request: HttpRequest, campaign: Campaign, language: str, *, saved: bool) -> HttpResponse:
    form = TranslationForm(request.POST)
    if form.is_valid():
        try:
            created = campaign_services.save_translation(
                campaign=campaign, language=language, data=form.to_input(), actor=request.user
            )
        except campaign_services.TranslationRefused:
            form.add_error(None, _("This campaign cannot take a text in %(language)s.") % {"language": language})
        else:
            if created:
                messages.success(request, _("The text in %(language)s is saved.") % {"language": language})
            else:
                messages.success(request, _("Saved."))
            return HttpResponseRedirect(reverse("dashboard:campaign_language", args=[campaign.slug, language]))
    # What was typed stays, each problem beside its field.
    return _page(request, campaign, language, form, saved=saved, status=400)


def _page(
    request: HttpRequest, campaign: Campaign, language: str, form: TranslationForm, *, saved: bool, status: int = 200
) -> HttpResponse:
    tabs = language_tabs(campaign, language)
    if not saved:
        # The tab of a language being added, not saved yet, shows among the others.
        tabs.append(
            {"language": language, "name": language_name(language), "main": False, "url": request.path, "current": True}
        )
    written_in(form, language)
    context = {
        "campaign": campaign,
        "organisation": campaign.organisation,
        "form": form,
        "language": language,
        "language_name": language_name(language, in_sentence=True),
        "saved": saved,
        "tabs": tabs,
        "placeholders": PLACEHOLDERS,
    }
    return render(request, "dashboard/editor/language.html", context, status=status)
