"""Updates to supporters and endorsers who agreed to hear more: list, compose, preview, send.

Under a campaign's and an open letter's workspace URLs, for members who run campaigns
(``Action.RUN_CAMPAIGNS``: owners and organisers; moderators do not write to
supporters); another organisation's campaign, letter or update is a 404. The draft is
saved when the organiser asks for the preview, so "edit again" shows what they typed.
The preview is the email as a supporter sees it, with how many people it will reach.
An update may carry versions in other languages of the site (``UpdateTranslation``):
the compose page has one fieldset per version and a blank one to add another (a plain
formset, no JavaScript; "Remove" drops one), and the preview shows each version with how
many people will get it. Send queues it once (``openletters.services.updates.queue``, a conditional update): a
double click or a second POST queues nothing twice. Nothing here shows a supporter's
address.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language_info, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from undersigned.campaigns.campaign_files.schema import LANGUAGE
from undersigned.campaigns.models import Campaign
from undersigned.campaigns.queries import group_members
from undersigned.core import countries as country_names
from undersigned.letters.queries import supporters_by_section
from undersigned.openletters import queries as openletter_queries
from undersigned.openletters import update_mail
from undersigned.openletters.models import (
    UPDATE_BODY_MAX_CHARS,
    UPDATE_SUBJECT_MAX_CHARS,
    OpenLetter,
    Update,
    UpdateStatus,
)
from undersigned.openletters.services import updates as update_services
from undersigned.supporters import updates as supporter_updates

from .permissions import dashboard_user_required, managed_campaign_or_404, managed_open_letter_or_404

# What a subject may not hold: it becomes an email header (line breaks, controls).
_NOT_ONE_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class _TextChecks:
    """The subject becomes an email header: one line; the body must say something."""

    cleaned_data: dict[str, Any]

    def clean_subject(self) -> str:
        subject = str(self.cleaned_data.get("subject") or "")
        if _NOT_ONE_LINE.search(subject):
            raise forms.ValidationError(_("Keep the subject on one line."))
        return subject.strip()

    def clean_body(self) -> str:
        body = str(self.cleaned_data.get("body") or "").replace("\r\n", "\n")
        if not body.strip():
            raise forms.ValidationError(_("Write the update."))
        return body


def _subject_field(label: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=UPDATE_SUBJECT_MAX_CHARS,
        error_messages={
            "required": gettext_lazy("Give the update a subject."),
            "max_length": gettext_lazy("Keep the subject under %(limit_value)d characters."),
        },
    )


def _body_field(label: Any, *, rows: int, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=UPDATE_BODY_MAX_CHARS,
        strip=False,
        widget=forms.Textarea(attrs={"rows": rows}),
        help_text=help_text,
        error_messages={
            "required": gettext_lazy("Write the update."),
            "max_length": gettext_lazy("Keep the update under %(limit_value)d characters."),
        },
    )


class UpdateForm(_TextChecks, forms.Form):
    subject = _subject_field(gettext_lazy("Subject"))
    body = _body_field(
        gettext_lazy("Text"),
        rows=14,
        help_text=gettext_lazy("Markdown: blank lines between paragraphs, *emphasis*, [links](https://…), lists."),
    )
    language = forms.CharField(
        label=gettext_lazy("Language"),
        max_length=10,
        help_text=gettext_lazy("The language the update is written in, e.g. en, de or pt-BR."),
        error_messages={"required": gettext_lazy("Give a language code, such as en.")},
    )
    countries = forms.MultipleChoiceField(
        label=gettext_lazy("Only people from these countries"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Leave all unticked to write to everyone who agreed."),
        error_messages={"invalid_choice": gettext_lazy("Choose among the countries listed.")},
    )

    sections = forms.MultipleChoiceField(
        label=gettext_lazy("Only people who wrote to these members"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Leave all unticked to write to every section."),
        error_messages={"invalid_choice": gettext_lazy("Choose among the members listed.")},
    )

    def __init__(
        self,
        *args: Any,
        country_choices: list[tuple[str, str]],
        section_choices: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["countries"].choices = country_choices  # type: ignore[attr-defined]
        self.fields["sections"].choices = section_choices  # type: ignore[attr-defined]

    def clean_sections(self) -> list[int]:
        return [int(value) for value in self.cleaned_data.get("sections") or []]

    def clean_language(self) -> str:
        language = str(self.cleaned_data.get("language") or "").strip()
        if LANGUAGE.fullmatch(language) is None:
            raise forms.ValidationError(_("Give a language code such as en, de or pt-BR."))
        return language


class VersionForm(_TextChecks, forms.Form):
    """The update in another language of the site: the same limits and checks."""

    language = forms.ChoiceField(
        label=gettext_lazy("Language of this version"),
        choices=[("", "—"), *settings.LANGUAGES],
        error_messages={
            "required": gettext_lazy("Choose the language of this version."),
            "invalid_choice": gettext_lazy("Choose among the languages listed."),
        },
    )
    subject = _subject_field(gettext_lazy("Subject in this language"))
    body = _body_field(gettext_lazy("Text in this language"), rows=10)


def _removed(form: forms.Form) -> bool:
    return bool(getattr(form, "cleaned_data", {}).get("DELETE"))


class BaseVersionFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    """Each language once, and never the main one (``main_language``, set by the view)."""

    main_language = ""

    def clean(self) -> None:
        seen: set[str] = set()
        for form in self.forms:
            if not form.has_changed() or _removed(form) or not hasattr(form, "cleaned_data"):
                continue
            language = form.cleaned_data.get("language")
            if not language:
                continue
            if language == self.main_language.lower():
                form.add_error("language", _("This is the update's main language: choose another."))
            elif language in seen:
                form.add_error("language", _("There is a version in this language already."))
            seen.add(language)

    def versions(self) -> dict[str, tuple[str, str]]:
        """Language → (subject, body) of the versions kept (valid formset only)."""
        return {
            form.cleaned_data["language"]: (form.cleaned_data["subject"], form.cleaned_data["body"])
            for form in self.forms
            if form.has_changed() and not _removed(form) and form.cleaned_data.get("language")
        }


# One blank version to add a language; at most one per other language of the site, and
# a posted form count beyond that is refused (``absolute_max``), not built.
VersionFormSet = cast(
    type[BaseVersionFormSet],
    forms.formset_factory(
        VersionForm,
        formset=BaseVersionFormSet,
        extra=1,
        can_delete=True,
        max_num=len(settings.LANGUAGES) - 1,
        absolute_max=len(settings.LANGUAGES),
        validate_max=True,
    ),
)
VERSIONS_PREFIX = "versions"


@dataclass(frozen=True)
class _Owner:
    """The campaign or the open letter whose updates these are, and its URLs."""

    item: Campaign | OpenLetter
    kind: str  # "campaign" or "open_letter"

    @property
    def ids(self) -> dict[str, int]:
        if isinstance(self.item, Campaign):
            return {"campaign_id": self.item.pk}
        return {"open_letter_id": self.item.pk}

    def url(self, name: str, *args: Any) -> str:
        return reverse(f"dashboard:{self.kind}_{name}", args=[self.item.slug, *args])

    def audience(self, country_codes: frozenset[str] = frozenset()) -> supporter_updates.Audience:
        return supporter_updates.Audience(
            organisation_id=self.item.organisation_id, countries=country_codes, **self.ids
        )


def _campaign(request: HttpRequest, slug: str) -> _Owner:
    return _Owner(managed_campaign_or_404(request.user, slug), "campaign")


def _open_letter(request: HttpRequest, slug: str) -> _Owner:
    return _Owner(managed_open_letter_or_404(request.user, slug), "open_letter")


def _update_or_404(owner: _Owner, update_id: int) -> Update:
    update = openletter_queries.update_of(update_id, **owner.ids)
    if update is None:
        raise Http404("No such update")
    return update


@dataclass(frozen=True)
class _Choices:
    countries: list[tuple[str, str]]
    sections: list[tuple[str, str]]
    agreed: int


def _choices(owner: _Owner) -> _Choices:
    """The countries and the sections (a group campaign's members letters went to) of the
    people who agreed, each with how many, and how many agreed in all."""
    agreed = list(supporter_updates.audience(owner.audience()))
    counts = Counter(supporter.country for supporter in agreed)
    choices = [
        (code, f"{country_names.name(code)} ({counts[code]})")
        for code in sorted(counts, key=country_names.name)
        if code
    ]
    sections: list[tuple[str, str]] = []
    item = owner.item
    if isinstance(item, Campaign) and item.recipient_group_id is not None:
        agreed_ids = {supporter.pk for supporter in agreed}
        by_section = supporters_by_section(item.pk)
        for recipient_id, name, _country, _weight in group_members(item.recipient_group_id):
            if recipient_id in by_section:
                sections.append((str(recipient_id), f"{name} ({len(by_section[recipient_id] & agreed_ids)})"))
    return _Choices(countries=choices, sections=sections, agreed=len(agreed))


def _list(request: HttpRequest, owner: _Owner) -> HttpResponse:
    rows = openletter_queries.updates_of(**owner.ids)
    counts = openletter_queries.update_send_counts([u.pk for u in rows])
    context = {
        "owner": owner,
        "updates": [(u, counts.get(u.pk, {})) for u in rows],
        "new_url": owner.url("update_new"),
    }
    return render(request, "dashboard/updates/list.html", context)


def _compose(request: HttpRequest, owner: _Owner, update: Update | None) -> HttpResponse:
    if update is not None and update.status != UpdateStatus.DRAFT:
        return HttpResponseRedirect(owner.url("update", update.pk))
    choices = _choices(owner)
    options = {"country_choices": choices.countries, "section_choices": choices.sections}
    status = 200
    # A POST without the versions' fields (not from this page's form) leaves them as they are.
    posted_versions = request.method == "POST" and f"{VERSIONS_PREFIX}-TOTAL_FORMS" in request.POST
    if request.method == "POST":
        form = UpdateForm(request.POST, **options)
        versions = VersionFormSet(request.POST if posted_versions else None, prefix=VERSIONS_PREFIX)
        versions.main_language = str(request.POST.get("language") or "").strip()
        form_valid = form.is_valid()  # both checked, so that every error shows at once
        if (versions.is_valid() if posted_versions else True) and form_valid:
            data = form.cleaned_data
            try:
                update = update_services.save_draft(
                    actor=request.user,
                    update=update,
                    subject=data["subject"],
                    body=data["body"],
                    language=data["language"],
                    countries=data["countries"],
                    sections=data["sections"],
                    translations=versions.versions() if posted_versions else None,
                    **({"campaign": owner.item} if owner.kind == "campaign" else {"open_letter": owner.item}),  # type: ignore[arg-type]
                )
            except update_services.UpdateNotDraft:
                messages.error(request, _("This update was sent already; it can no longer change."))
                return HttpResponseRedirect(owner.url("updates"))
            return HttpResponseRedirect(owner.url("update", update.pk))
        status = 400
    elif update is not None:
        form = UpdateForm(
            initial={
                "subject": update.subject,
                "body": update.body,
                "language": update.language,
                "countries": update.countries,
                "sections": [str(section) for section in update.sections],
            },
            **options,
        )
        versions = VersionFormSet(
            initial=[
                {"language": t.language, "subject": t.subject, "body": t.body}
                for t in openletter_queries.update_translations(update.pk).values()
            ],
            prefix=VERSIONS_PREFIX,
        )
    else:
        form = UpdateForm(initial={"language": owner.item.language}, **options)
        versions = VersionFormSet(prefix=VERSIONS_PREFIX)
    context = {
        "owner": owner,
        "update": update,
        "form": form,
        "versions": versions,
        "agreed": choices.agreed,
        "action": owner.url("update_edit", update.pk) if update is not None else owner.url("update_new"),
    }
    return render(request, "dashboard/updates/compose.html", context, status=status)


def _language_name(code: str) -> str:
    """A language's name in the page's language; the code itself when Django knows no name."""
    try:
        return str(get_language_info(code)["name_translated"])
    except KeyError:
        return code


def _preview(request: HttpRequest, owner: _Owner, update: Update) -> HttpResponse:
    by_language = update_services.reach_by_language(update)
    translations = openletter_queries.update_translations(update.pk)
    name = _("Alex Example")
    mails = [
        (
            update.language,
            _language_name(update.language),
            by_language.get(update.language, 0),
            update_mail.compose(update, supporter_name=name, unsubscribe="#unsubscribe"),
        )
    ]
    for language, version in translations.items():
        mail = update_mail.compose(update, supporter_name=name, unsubscribe="#unsubscribe", version=version)
        mails.append((language, _language_name(language), by_language.get(language, 0), mail))
    context = {
        "owner": owner,
        "update": update,
        "mails": mails,
        "reach": sum(by_language.values()),
        "country_list": [country_names.name(code) for code in update.countries],
        "section_count": len(update.sections),
        "counts": openletter_queries.update_send_counts([update.pk])[update.pk],
    }
    return render(request, "dashboard/updates/preview.html", context)


def _send(request: HttpRequest, owner: _Owner, update: Update) -> HttpResponse:
    if update_services.queue(update=update, actor=request.user):
        messages.success(request, _("The update is on its way. Its emails go out over the next minutes."))
    else:
        messages.info(request, _("This update was sent already; nothing was sent twice."))
    return HttpResponseRedirect(owner.url("updates"))


@require_GET
@dashboard_user_required
def campaign_updates(request: HttpRequest, slug: str) -> HttpResponse:
    return _list(request, _campaign(request, slug))


@require_http_methods(["GET", "POST"])
@dashboard_user_required
def campaign_update_new(request: HttpRequest, slug: str) -> HttpResponse:
    return _compose(request, _campaign(request, slug), None)


@require_GET
@dashboard_user_required
def campaign_update(request: HttpRequest, slug: str, update_id: int) -> HttpResponse:
    owner = _campaign(request, slug)
    return _preview(request, owner, _update_or_404(owner, update_id))


@require_http_methods(["GET", "POST"])
@dashboard_user_required
def campaign_update_edit(request: HttpRequest, slug: str, update_id: int) -> HttpResponse:
    owner = _campaign(request, slug)
    return _compose(request, owner, _update_or_404(owner, update_id))


@require_POST
@dashboard_user_required
def campaign_update_send(request: HttpRequest, slug: str, update_id: int) -> HttpResponse:
    owner = _campaign(request, slug)
    return _send(request, owner, _update_or_404(owner, update_id))


@require_GET
@dashboard_user_required
def open_letter_updates(request: HttpRequest, slug: str) -> HttpResponse:
    return _list(request, _open_letter(request, slug))


@require_http_methods(["GET", "POST"])
@dashboard_user_required
def open_letter_update_new(request: HttpRequest, slug: str) -> HttpResponse:
    return _compose(request, _open_letter(request, slug), None)


@require_GET
@dashboard_user_required
def open_letter_update(request: HttpRequest, slug: str, update_id: int) -> HttpResponse:
    owner = _open_letter(request, slug)
    return _preview(request, owner, _update_or_404(owner, update_id))


@require_http_methods(["GET", "POST"])
@dashboard_user_required
def open_letter_update_edit(request: HttpRequest, slug: str, update_id: int) -> HttpResponse:
    owner = _open_letter(request, slug)
    return _compose(request, owner, _update_or_404(owner, update_id))


@require_POST
@dashboard_user_required
def open_letter_update_send(request: HttpRequest, slug: str, update_id: int) -> HttpResponse:
    owner = _open_letter(request, slug)
    return _send(request, owner, _update_or_404(owner, update_id))
