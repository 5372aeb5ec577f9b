"""Forms of the organiser pages."""

from __future__ import annotations

from django import forms

from undersigned.openletters.services.moderation import HideReason

PAPER_LABELS = {"a4": "A4", "us-letter": "US Letter"}


class PrintForm(forms.Form):
    paper = forms.ChoiceField(
        label="Paper",
        choices=list(PAPER_LABELS.items()),
        initial="a4",
        widget=forms.RadioSelect,
        help_text="Letters are laid out for window envelopes: DIN 5008 on A4, a #10 envelope on US Letter.",
        error_messages={"required": "Choose the paper to print on.", "invalid_choice": "Choose A4 or US Letter."},
    )


class MarkPostedForm(forms.Form):
    """After printing: the organiser confirms the letters are in the post."""

    confirm = forms.BooleanField(
        label="These letters are in the post",
        required=True,
        error_messages={"required": "Tick this box once the letters of this print are in the post."},
    )


class HideForm(forms.Form):
    reason = forms.CharField(
        label="Reason for hiding",
        max_length=300,
        error_messages={
            "required": "Say why you hide it: the audit log keeps it for the other moderators.",
            "max_length": "Keep the reason under 300 characters.",
        },
    )

    def clean_reason(self) -> str:
        # One line: it is shown in the queue and kept in the audit trail.
        return " ".join(str(self.cleaned_data["reason"]).split())


class HideEndorsementForm(forms.Form):
    """Hiding an endorsement: the reason is one of a fixed list, so the audit log never holds free text."""

    reason = forms.ChoiceField(label="Reason", choices=HideReason.CHOICES)
