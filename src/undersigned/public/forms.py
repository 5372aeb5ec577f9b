"""Forms for the supporter's journey. They validate and clean; services do the writing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.forms import BoundField
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from undersigned.campaigns import placeholders
from undersigned.campaigns.languages import CampaignText, language_name, text_in
from undersigned.campaigns.models import Campaign
from undersigned.campaigns.routing import Route
from undersigned.core import abuse
from undersigned.core.countries import CountryField, CountrySelect
from undersigned.core.form_fields import MultiLineField, SingleLineField, length_message
from undersigned.core.rendering import FAST_RENDERER
from undersigned.core.templatetags.text_direction import text_direction
from undersigned.letters.services import VersionInput
from undersigned.letters.uniqueness import own_words_percent


def _subject_field(label: Any) -> SingleLineField:
    return SingleLineField(
        label=label,
        max_length=settings.LETTER_SUBJECT_MAX_CHARS,
        error_messages=length_message(
            _("The subject is too long: %(show_value)d characters, the limit is %(limit_value)d.")
        ),
    )


def _body_field(label: Any, help_text: Any = "", *, attrs: dict[str, str] | None = None) -> MultiLineField:
    return MultiLineField(
        label=label,
        help_text=help_text,
        max_length=settings.LETTER_BODY_MAX_CHARS,
        error_messages=length_message(
            _("Your letter is too long: %(show_value)d characters, the limit is %(limit_value)d.")
        ),
        widget=forms.Textarea(attrs={"rows": 18, **(attrs or {})}),
    )


@dataclass(frozen=True)
class VersionFields:
    """The subject and body of the letter in one more language (``LetterText``)."""

    text: CampaignText  # the campaign's text in that language: the template it starts from
    subject: BoundField
    body: BoundField


def version_field_names(language: str) -> tuple[str, str]:
    """The form's names for the subject and body of the version in ``language``."""
    return f"subject__{language}", f"body__{language}"


class ComposerForm(abuse.GuardedForm):
    """The letter form, behind the shared abuse layer (honeypot and minimum fill time)."""

    default_renderer = FAST_RENDERER  # the busiest page: plain widgets rendered in Python
    submission_key = forms.UUIDField(widget=forms.HiddenInput)
    name = SingleLineField(
        label=_("Your name"),
        max_length=120,
        error_messages=length_message(
            _("Your name is too long: %(show_value)d characters, the limit is %(limit_value)d.")
        ),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        help_text=_(
            "So you can come back to your letter. Never shown to anyone; recipients see it only "
            "if we send the email for you, as the address to reply to."
        ),
        error_messages={"invalid": _("Enter an email address like name@example.org.")},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    town = SingleLineField(
        label=_("Your town or city"),
        max_length=120,
        error_messages=length_message(
            _("Your town is too long: %(show_value)d characters, the limit is %(limit_value)d.")
        ),
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    country = CountryField(label=_("Your country"), widget=CountrySelect(attrs={"autocomplete": "country"}))
    postal_address = MultiLineField(
        label=_("Your postal address (only if you will send it by post)"),
        required=False,
        max_length=500,
        error_messages=length_message(
            _("Your address is too long: %(show_value)d characters, the limit is %(limit_value)d.")
        ),
        help_text=_("Printed as the sender's address on a posted letter. Street, town and postcode, one per line."),
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
    )
    subject = _subject_field(_("Subject"))
    body = _body_field(
        _("Your letter"),
        _("Change anything you like. Words in {{ double braces }} are filled in for each recipient from your details."),
    )

    # A campaign addressed to a group: the member chosen among those ``route`` offers.
    recipient = forms.CharField(required=False, max_length=20)
    # The language of the campaign's text the letter started from (``campaigns/languages.py``).
    text_language = forms.CharField(required=False, max_length=10, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        campaign: Campaign,
        route_for: Callable[[str], Route] | None = None,
        texts: Sequence[CampaignText] = (),
        versions: Sequence[CampaignText] = (),
        **kwargs: Any,
    ) -> None:
        # Organisers switch the proof-of-work check on per campaign during an attack.
        kwargs.setdefault("pow_required", campaign.pow_required)
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.route_for = route_for
        self.texts = tuple(texts)
        # The letter written once per language: a subject and a body for each of these
        # languages besides the main text's, each marked with its language and direction.
        self.versions = tuple(versions)
        for text in self.versions:
            name = language_name(text.language, local=True)
            marks = {"lang": text.language, "dir": text_direction(text.language)}
            subject, body = version_field_names(text.language)
            # Translators: {language} is a language's name as its readers write it ("français").
            self.fields[subject] = _subject_field(format_lazy(_("Subject in {language}"), language=name))
            self.fields[subject].widget.attrs.update(marks)
            self.fields[body] = _body_field(format_lazy(_("Your letter in {language}"), language=name), attrs=marks)
        if self.versions and self.texts:  # the main text is in a language too, beside the others
            raw = self.data.get("text_language") if self.is_bound else self.initial.get("text_language")
            main = text_in(self.texts, str(raw or ""))
            marks = {"lang": main.language, "dir": text_direction(main.language)}
            self.fields["subject"].widget.attrs.update(marks)
            self.fields["body"].widget.attrs.update(marks)

    @property
    def version_fields(self) -> list[VersionFields]:
        return [
            VersionFields(text, *(self[name] for name in version_field_names(text.language))) for text in self.versions
        ]

    def cleaned_versions(self) -> tuple[VersionInput, ...]:
        """The versions as typed, for ``letters.services.save_letter`` (after ``is_valid``)."""
        out = []
        for text in self.versions:
            subject, body = version_field_names(text.language)
            out.append(VersionInput(text.language, self.cleaned_data[subject], self.cleaned_data[body]))
        return tuple(out)

    @property
    def text(self) -> CampaignText | None:
        """The campaign's text in the letter's language (the main one for a code it lacks)."""
        if not self.texts:
            return None
        raw = self.cleaned_data.get("text_language") if hasattr(self, "cleaned_data") else None
        return text_in(self.texts, str(raw or self.data.get("text_language") or ""))

    def clean_text_language(self) -> str:
        # A code the campaign has no text in (an old or edited form) is its main language.
        raw = str(self.cleaned_data.get("text_language") or "")
        return text_in(self.texts, raw).language if self.texts else raw

    def _check_recipient(self) -> None:
        """Whom the letter goes to: the one member the rule decides, or one of those it offers.

        A recipient the rule does not offer for this country (an edited form, a stale
        page) is refused beside the field, with the choices shown again."""
        self.cleaned_data["addressed_to"] = None
        country = self.cleaned_data.get("country")
        if self.route_for is None or not country:
            return
        route = self.route_for(str(country))
        if route.every or not route.choices:
            return
        raw = str(self.cleaned_data.get("recipient") or "").strip()
        if not raw:
            if route.needs_choice:
                self.add_error("recipient", _("Choose whom your letter goes to."))
            else:
                self.cleaned_data["addressed_to"] = route.choices[0].recipient_id
            return
        if not raw.isdigit() or not route.allows(int(raw)):
            self.add_error(
                "recipient",
                _("Your letter can't go to that recipient from the country you gave: choose one of those listed."),
            )
            return
        self.cleaned_data["addressed_to"] = int(raw)

    def _check_placeholders(self, field: str) -> None:
        """Misspelt, unknown or unclosed placeholders, beside the field, before anything is
        saved: printed as typed they would reach every recipient (``campaigns.placeholders``)."""
        value = self.cleaned_data.get(field)
        if not value:
            return
        unknown = placeholders.check_placeholders(value)
        guessed = [found for found in unknown if found.suggestion]
        for found in guessed:
            self.add_error(
                field,
                _("We can't fill in {{ %(name)s }}: did you mean {{ %(suggestion)s }}?")
                % {"name": found.name, "suggestion": found.suggestion},
            )
        unguessed = [found.name for found in unknown if not found.suggestion]
        if unguessed:
            known = ", ".join("{{ " + name + " }}" for name in placeholders.KNOWN)
            names = ", ".join("{{ " + name + " }}" for name in unguessed)
            self.add_error(field, _("We can't fill in %(names)s. Remove it, or use one of: %(known)s.")
                           % {"names": names, "known": known})  # fmt: skip
        for broken in placeholders.broken_placeholders(value):
            if broken.suggestion:
                message = _("“%(piece)s” is not a complete placeholder: write it as {{ %(suggestion)s }}.") % {
                    "piece": broken.piece,
                    "suggestion": broken.suggestion,
                }
            else:
                message = _(
                    "“%(piece)s” looks like a placeholder but is not complete: a placeholder is a name "
                    "between double braces, like {{ supporter.name }}. Complete it or remove the braces."
                ) % {"piece": broken.piece}
            self.add_error(field, message)

    def clean(self) -> dict[str, Any]:
        # The letter's own checks first, so that a refusal by the abuse layer (raised by
        # GuardedForm.clean) still shows everything else that needs fixing.
        self._check_placeholders("subject")
        self._check_placeholders("body")
        self._check_recipient()
        # Against the template of the letter's language: a translation is no more own words.
        text = self.text
        self._check_own_words("body", text.body if text else self.campaign.template.body)
        for version in self.versions:
            subject, body = version_field_names(version.language)
            self._check_placeholders(subject)
            self._check_placeholders(body)
            self._check_own_words(body, version.body)  # each version against its own language's template
        return super().clean() or self.cleaned_data

    def _check_own_words(self, field: str, template: str) -> None:
        body = self.cleaned_data.get(field)
        minimum = self.campaign.min_uniqueness
        if not body or not minimum or field in self.errors:
            return
        score = own_words_percent(body, template)
        if score < minimum:
            self.add_error(
                field,
                _(
                    "Your letter is %(score)s %% in your own words; this campaign asks for at least "
                    "%(minimum)s %%. Recipients set aside identical letters: add a few sentences about "
                    "your own experience."
                )
                % {"score": score, "minimum": minimum},
            )


class SenderAddressForm(forms.Form):
    default_renderer = FAST_RENDERER
    postal_address = MultiLineField(
        label=_("Your postal address"),
        max_length=500,
        error_messages={
            "required": _("A posted letter needs a sender's address."),
            **length_message(_("Your address is too long: %(show_value)d characters, the limit is %(limit_value)d.")),
        },
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "street-address"}),
        help_text=_("Street, town and postcode, one per line."),
    )


class UpdatesOptInForm(forms.Form):
    agree = forms.BooleanField(
        required=True,
        error_messages={"required": _("Tick the box if you would like updates; otherwise there is nothing to save.")},
    )


class MyLinkForm(abuse.GuardedForm):
    """ "Get my link again": the address a supporter wrote their letter with.

    On the campaign page, which every visitor shares byte for byte, so without a start
    time: the honeypot and the limits per IP hash and per address guard it, and the worst
    it can do is mail an address the links of letters written with that address.
    """

    default_renderer = FAST_RENDERER
    checks_fill_time = False
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        help_text=_("The one you gave with your letter. We email the links to your letters in this campaign to it."),
        error_messages={
            "required": _("Enter the email address you gave with your letter."),
            "invalid": _("Enter an email address like name@example.org."),
            "max_length": _("An email address has at most 254 characters."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial[abuse.STARTED_FIELD] = ""  # nothing per request on a shared page
