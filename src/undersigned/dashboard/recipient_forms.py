"""Forms of the workspace's recipient pages: a recipient, a group, its members, a CSV upload.

A recipient is checked by the campaign file's rule (``campaign_files.check_recipient``),
so what a form accepts a campaign file accepts too, with the same messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from undersigned.campaigns.campaign_files import MAX_LENGTHS, RecipientData, check_recipient
from undersigned.campaigns.recipient_csv import VOTE_WEIGHT_MAX
from undersigned.core.form_fields import MultiLineField, SingleLineField

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Form field → the campaign file's key (and back, for the messages).
KEYS = {
    "name": "name",
    "role": "role",
    "organisation": "organisation",
    "email": "email",
    "web_form_url": "web_form_url",
    "postal_address": "postal_address",
    "country": "country",
    "language": "language",
    "max_emails_per_minute": "max_emails_per_minute",
    "daily_digest": "daily_digest",
}


def _line(label: StrOrPromise, key: str, *, required: bool = False, help_text: StrOrPromise = "") -> SingleLineField:
    # No max_length on the field: the campaign file's check gives the message; the
    # attribute (plus a margin for the message to be seen) only bounds what is typed.
    limit = MAX_LENGTHS.get(f"recipients.{key}", 200)
    return SingleLineField(
        label=label,
        required=required,
        strip=True,
        help_text=help_text,
        widget=forms.TextInput(attrs={"maxlength": limit + 50}),
    )


class RecipientForm(forms.Form):
    name = _line(_("Name"), "name", required=True)
    role = _line(_("Role"), "role")
    organisation = _line(_("Organisation"), "organisation")
    email = _line(_("Email"), "email")
    web_form_url = _line(_("Web form"), "web_form_url", help_text=_("The address of their contact form, https://…"))
    postal_address = MultiLineField(
        label=_("Postal address"),
        required=False,
        help_text=_("One line per line of the envelope."),
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": 1050}),
    )
    country = _line(_("Country"), "country", help_text=_("Two letters (ISO 3166-1), such as GB, CZ or MA."))
    language = _line(_("Language"), "language", help_text=_("A language code such as en, cs or pt-BR."))
    max_emails_per_minute = forms.IntegerField(
        label=_("Emails a minute, at most"),
        required=False,
        min_value=0,
        max_value=10_000,
        help_text=_("Letters the platform emails for supporters wait their turn beyond this; 0: no limit."),
    )
    daily_digest = forms.BooleanField(
        label=_("One email a day listing that day's letters, instead of one email per letter"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].error_messages["required"] = _("Enter the recipient's name.")
        self.data_checked: RecipientData | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        values: dict[str, Any] = {key: cleaned.get(field) or "" for field, key in KEYS.items()}
        values["max_emails_per_minute"] = cleaned.get("max_emails_per_minute") or 0
        values["daily_digest"] = bool(cleaned.get("daily_digest"))
        data, problems = check_recipient(values)
        fields = {key: field for field, key in KEYS.items()}
        for key, message in problems:
            self.add_error(fields.get(key), message)
        self.data_checked = data
        return cleaned


class GroupForm(forms.Form):
    name = SingleLineField(
        label=_("Name"),
        max_length=200,
        error_messages={"required": _("Give the group a name, such as “National sections”.")},
    )
    decision_date = forms.DateField(
        label=_("Decision date"),
        required=False,
        help_text=_("The day the group decides, e.g. 2027-04-24."),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": _("Enter a date such as 2027-04-24.")},
    )


def weight_field(label: StrOrPromise) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=1,
        max_value=VOTE_WEIGHT_MAX,
        initial=1,
        error_messages={
            "required": _("Enter a vote weight: a whole number from 1."),
            "invalid": _("A vote weight is a whole number from 1."),
            "min_value": _("A vote weight is a whole number from 1."),
            "max_value": _("A vote weight is at most %(limit_value)s."),
        },
    )


class AddToGroupForm(forms.Form):
    group = forms.TypedChoiceField(label=_("Group"), coerce=int)
    vote_weight = weight_field(_("Vote weight"))

    def __init__(self, *args: Any, groups: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = groups  # type: ignore[attr-defined]


class CsvUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8, at most 1 MB and 5,000 rows; the first row names the columns."),
        error_messages={"required": _("Choose the CSV file to upload."), "empty": _("The file is empty.")},
    )
    group = forms.TypedChoiceField(label=_("Also put them in a group"), coerce=int, required=False, empty_value=None)
    new_group = SingleLineField(
        label=_("…or in a new group named"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"maxlength": 200}),
    )

    def __init__(self, *args: Any, groups: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [("", _("No group")), *groups]  # type: ignore[attr-defined]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > settings.RECIPIENT_CSV_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s bytes; split it into smaller files.")
                % {"limit": f"{settings.RECIPIENT_CSV_MAX_BYTES:,}"}
            )
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("group") and cleaned.get("new_group"):
            self.add_error("new_group", _("Choose a group or name a new one, not both."))
        return cleaned


class CampaignFileUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Campaign file"),
        help_text=_("A .toml file as `undersigned export` writes it, at most 1 MB."),
        error_messages={"required": _("Choose the campaign file to upload."), "empty": _("The file is empty.")},
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > settings.CAMPAIGN_FILE_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s bytes; a campaign file is far smaller.")
                % {"limit": f"{settings.CAMPAIGN_FILE_UPLOAD_MAX_BYTES:,}"}
            )
        return upload
