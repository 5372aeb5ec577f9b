"""Forms for discussions. They validate and clean; the discussion services do the writing."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from undersigned.core import abuse
from undersigned.core.form_fields import MultiLineField, SingleLineField, length_message
from undersigned.discussion.services import NOTIFY_WORDING

BODY_HELP = _(
    "Be kind and stay on topic. You can write *emphasis*, **strong** and [links](https://example.org). "
    "A comment is not a signature: it never counts as support."
)


class CommentForm(abuse.GuardedForm):
    submission_key = forms.UUIDField(widget=forms.HiddenInput)
    parent = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=2**63 - 1)
    name = SingleLineField(
        label=_("Your name"),
        max_length=settings.COMMENT_NAME_MAX_CHARS,
        help_text=_("Shown with your comment."),
        error_messages=length_message(
            _("Your name is too long: %(show_value)d characters, the limit is %(limit_value)d.")
        ),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        help_text=_("Never shown. The first time, we send you a link to confirm your comment."),
        error_messages={"invalid": _("Enter an email address like name@example.org.")},
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    body = MultiLineField(
        label=_("Your comment"),
        max_length=settings.COMMENT_MAX_CHARS,
        help_text=BODY_HELP,
        error_messages={
            "required": _("Write something before you post."),
            **length_message(_("Your comment is too long: %(show_value)d characters, the limit is %(limit_value)d.")),
        },
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    notify_replies = forms.BooleanField(label=_(NOTIFY_WORDING), required=False)

    def __init__(self, *args: Any, signed_in: bool = False, confirm_by_email: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signed_in = signed_in
        if not confirm_by_email:
            self.fields["email"].help_text = "Never shown. A moderator reads your first comment before it is shown."
        if signed_in:
            # A signed-in account's own (verified) address is used; nobody types another.
            del self.fields["email"]

    def clean_body(self) -> str:
        body = str(self.cleaned_data.get("body", ""))
        if not body.strip():
            raise forms.ValidationError(_("Write something before you post."))
        return body.strip()


class ReportForm(forms.Form):
    reason = MultiLineField(
        label=_("What is wrong with this comment?"),
        required=False,
        max_length=500,
        error_messages=length_message(
            _("The reason is too long: %(show_value)d characters, the limit is %(limit_value)d.")
        ),
        help_text=_("For the moderators only."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
