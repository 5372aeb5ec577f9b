"""Forms of the organiser pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.utils.translation import gettext_lazy as _

from undersigned.discussion.models import DiscussionMode, FirstComment, Moderation
from undersigned.discussion.services import DiscussionSettings
from undersigned.openletters.services.moderation import HideReason
from undersigned.organisations.models import Role

MAX_LINKS_LIMIT = 20  # a discussion's "links before a moderator looks" (a small positive number)
PAPER_LABELS = {"a4": "A4", "us-letter": _("US Letter")}


class PrintForm(forms.Form):
    paper = forms.ChoiceField(
        label=_("Paper"),
        choices=list(PAPER_LABELS.items()),
        initial="a4",
        widget=forms.RadioSelect,
        help_text=_("Letters are laid out for window envelopes: DIN 5008 on A4, a #10 envelope on US Letter."),
        error_messages={"required": _("Choose the paper to print on."), "invalid_choice": _("Choose A4 or US Letter.")},
    )


class MarkPostedForm(forms.Form):
    """After printing: the organiser confirms the letters are in the post."""

    confirm = forms.BooleanField(
        label=_("These letters are in the post"),
        help_text=_(
            "Each supporter whose letter this print carries then gets a short email saying you posted it, "
            "and their letter counts as sent."
        ),
        required=True,
        error_messages={"required": _("Tick this box once the letters of this print are in the post.")},
    )


class HideForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for hiding"),
        max_length=300,
        error_messages={
            "required": _("Say why you hide it: the audit log keeps it for the other moderators."),
            "max_length": _("Keep the reason under 300 characters."),
        },
    )

    def clean_reason(self) -> str:
        # One line: it is shown in the queue and kept in the audit trail.
        return " ".join(str(self.cleaned_data["reason"]).split())


class HideEndorsementForm(forms.Form):
    """Hiding an endorsement: the reason is one of a fixed list, so the audit log never holds free text."""

    reason = forms.ChoiceField(label=_("Reason"), choices=HideReason.CHOICES)


# --- The team --------------------------------------------------------------------------------

ROLE_CHOICES = [(str(role), role.label) for role in Role]


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        error_messages={
            "required": _("Enter the email address to send the invitation to."),
            "invalid": _("Enter an email address like name@example.org."),
            "max_length": _("An email address has at most 254 characters."),
        },
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=ROLE_CHOICES,
        initial=str(Role.ORGANISER),
        error_messages={"required": _("Choose a role."), "invalid_choice": _("Choose one of the roles listed.")},
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(
        label=_("Role"),
        choices=ROLE_CHOICES,
        error_messages={"required": _("Choose a role."), "invalid_choice": _("Choose one of the roles listed.")},
    )


class OrganisationSettingsForm(forms.Form):
    require_two_factor = forms.BooleanField(
        label=_("Require two-factor sign-in of every member"),
        required=False,
        help_text=_(
            "Members then sign in with a code from an authenticator app as well as their password. "
            "Whoever has not set it up is asked to do so before they can do anything for the organisation."
        ),
    )


class NewAccountForm(forms.Form):
    """The password of an account made through an invitation (the address comes from the invitation)."""

    password1 = forms.CharField(
        label=_("Choose a password"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": _("Choose a password."), "max_length": _("Use at most 128 characters.")},
    )
    password2 = forms.CharField(
        label=_("The password again"),
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={
            "required": _("Type the password a second time."),
            "max_length": _("Use at most 128 characters."),
        },
    )

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean_password1(self) -> str:
        password = str(self.cleaned_data["password1"])
        candidate = get_user_model()(username=self.email.split("@", 1)[0], email=self.email)
        password_validation.validate_password(password, candidate)
        return password

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ: type the same password twice."))
        return cleaned


class DiscussionSettingsForm(forms.Form):
    """A discussion's settings, in words for organisers and moderators (discussion.models)."""

    mode = forms.ChoiceField(
        label=_("Discussion"),
        choices=[
            (DiscussionMode.OPEN, _("Open: people can comment")),
            (DiscussionMode.CLOSED, _("Closed: comments stay readable, no new ones")),
            (DiscussionMode.OFF, _("Off: no discussion is shown")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose whether the discussion is open.")},
    )
    close_after_deadline = forms.BooleanField(
        label=_("Close the discussion when the deadline has passed"), required=False
    )
    moderation = forms.ChoiceField(
        label=_("Moderation"),
        choices=[
            (Moderation.POST, _("Comments show at once; moderators hide what breaks the rules")),
            (Moderation.PRE, _("Nothing shows before a moderator approves it")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how comments are moderated.")},
    )
    first_comment = forms.ChoiceField(
        label=_("A first comment from an email address we don't know yet"),
        choices=[
            (FirstComment.CONFIRM_EMAIL, _("The commenter confirms their email address with a link we send")),
            (FirstComment.MODERATOR, _("A moderator approves it")),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what happens to a first comment.")},
    )
    max_links = forms.IntegerField(
        label=_("Links a comment may have before it waits for a moderator"),
        min_value=0,
        max_value=MAX_LINKS_LIMIT,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": _("Say how many links a comment may have."),
            "invalid": _("Enter a whole number."),
            "min_value": _("Enter 0 or more."),
            "max_value": _("Enter %(limit_value)s or fewer."),
        },
    )
    pow_required = forms.BooleanField(
        label=_("Proof-of-work challenge: browsers solve a small puzzle before a comment is accepted"),
        help_text=_("Switch it on during a spam attack."),
        required=False,
    )

    def to_settings(self) -> DiscussionSettings:
        data = self.cleaned_data
        return DiscussionSettings(
            mode=DiscussionMode(data["mode"]),
            close_after_deadline=bool(data["close_after_deadline"]),
            moderation=Moderation(data["moderation"]),
            first_comment=FirstComment(data["first_comment"]),
            pow_required=bool(data["pow_required"]),
            max_links=int(data["max_links"]),
        )
