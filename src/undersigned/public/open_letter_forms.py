"""Forms for endorsing an open letter and confirming by code. They validate; services write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from undersigned.core import abuse
from undersigned.core.countries import CountryField, CountrySelect
from undersigned.core.form_fields import MultiLineField, SingleLineField, length_message
from undersigned.openletters.models import STATEMENT_MAX_CHARS, EndorserKind


class EndorseForm(abuse.GuardedForm):
    kind = forms.ChoiceField(
        label=_("You endorse as"),
        choices=EndorserKind.choices,
        initial=EndorserKind.PERSON,
        widget=forms.RadioSelect,
    )
    name = SingleLineField(
        label=_("Your name, or your organisation's name"),
        max_length=120,
        error_messages={
            "required": _("Please give your name (or your organisation's)."),
            **length_message(_("The name is too long: %(show_value)d characters, the limit is %(limit_value)d.")),
        },
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    role = SingleLineField(
        label=_("Role or title"),
        required=False,
        max_length=120,
        error_messages=length_message(
            _("The role is too long: %(show_value)d characters, the limit is %(limit_value)d.")
        ),
        help_text=_("For example “Trustee” or “Professor of Law”."),
        widget=forms.TextInput(attrs={"autocomplete": "organization-title"}),
    )
    organisation = SingleLineField(
        label=_("Organisation"),
        required=False,
        max_length=160,
        error_messages=length_message(
            _("The organisation is too long: %(show_value)d characters, the limit is %(limit_value)d.")
        ),
        help_text=_("The organisation your role is with, if any."),
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    signatory = SingleLineField(
        label=_("Signed for the organisation by"),
        required=False,
        max_length=120,
        error_messages=length_message(
            _("The name is too long: %(show_value)d characters, the limit is %(limit_value)d.")
        ),
        help_text=_("Only when you endorse as an organisation: who signs for it (their role goes above)."),
    )
    website = forms.URLField(
        label=_("Organisation's website"),
        required=False,
        max_length=300,
        assume_scheme="https",
        error_messages={
            "invalid": _("Enter a web address like https://example.org."),
            **length_message(_("The address is too long: %(show_value)d characters, the limit is %(limit_value)d.")),
        },
    )
    country = CountryField(label=_("Country"), widget=CountrySelect(attrs={"autocomplete": "country"}))
    statement = MultiLineField(
        label=_("Your statement"),
        required=False,
        max_length=STATEMENT_MAX_CHARS,
        error_messages=length_message(
            _("Your statement is too long: %(show_value)d characters, the limit is %(limit_value)d.")
        ),
        help_text=format_lazy(
            _("A sentence or two, up to {limit} characters, shown with your name."), limit=STATEMENT_MAX_CHARS
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        help_text=_("We send you a link to confirm. Never shown to anyone."),
        error_messages={"invalid": _("Enter an email address like name@example.org.")},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    show_publicly = forms.BooleanField(
        label=_("Show my name publicly"),
        required=False,
        initial=True,
        help_text=_(
            "Your name, role, organisation, country and statement appear on this page and in the pack handed "
            "to the addressees. Untick to be counted without being named. Your email address is never shown."
        ),
    )
    wants_updates = forms.BooleanField(label="", required=False)

    def __init__(self, *args: Any, updates_wording: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The label is the exact wording recorded with the consent.
        self.fields["wants_updates"].label = updates_wording

    def clean_website(self) -> str:
        value = str(self.cleaned_data.get("website") or "")
        if value and not value.lower().startswith(("http://", "https://")):
            raise forms.ValidationError(_("Enter a web address starting with http:// or https://."))
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("kind") == EndorserKind.ORGANISATION and not cleaned.get("signatory"):
            self.add_error(
                "signatory", _("An organisation's endorsement needs the name of the person who signs for it.")
            )
        if cleaned.get("kind") == EndorserKind.PERSON:
            cleaned["signatory"] = ""
            cleaned["website"] = ""
        return cleaned


_CODE_SHAPE = _("The code has 8 letters and digits.")


class ConfirmCodeForm(abuse.GuardedForm):
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        error_messages={"invalid": _("Enter an email address like name@example.org.")},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    code = SingleLineField(
        label=_("The code from the email"),
        max_length=20,
        min_length=8,
        error_messages={"min_length": _CODE_SHAPE, "max_length": _CODE_SHAPE},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "characters"}),
    )


class EndorserSearchForm(forms.Form):
    q = SingleLineField(label=_("Search by name or organisation"), required=False, max_length=100)
    country = forms.CharField(label=_("Country"), required=False, max_length=2)
