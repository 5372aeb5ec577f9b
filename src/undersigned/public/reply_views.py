"""The supporter's side of replies: the answer links of the "Did you get a reply?"
email, and the page (also reached from the private link) to paste the reply."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from undersigned.core.form_fields import MultiLineField
from undersigned.core.http import personal_page, private_file_response
from undersigned.delivery import replies
from undersigned.delivery.models import Reply, ReplySource
from undersigned.letters.models import Letter, ReplyAnswer

from .views import _letter_or_problem

ANSWER_LABELS = {ReplyAnswer.YES: _("Yes"), ReplyAnswer.NOT_YET: _("Not yet"), ReplyAnswer.NO: _("No")}


class ReplyForm(forms.Form):
    recipient = forms.TypedChoiceField(label=_("Who replied?"), coerce=int, empty_value=None)
    text = MultiLineField(
        label=_("The reply"),
        required=False,
        max_length=settings.REPLY_TEXT_MAX_CHARS,
        error_messages={
            "max_length": _("The reply is too long: %(show_value)d characters, the limit is %(limit_value)d."),
        },
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Paste it here, or upload it below (or both). It stays private: only the organisers see it."),
    )
    file = forms.FileField(
        label=_("Or upload it as a file"),
        required=False,
        help_text=_("A PDF, PNG or JPEG, at most %(limit)s. It stays private too.")
        % {"limit": filesizeformat(settings.REPLY_FILE_MAX_BYTES)},
        widget=forms.FileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"}),
    )
    may_quote = forms.BooleanField(
        label=_("The organisers may quote this reply publicly"),
        required=False,
        help_text=_("Only if they approve it too. Your name is never shown with it."),
    )

    def __init__(self, *args: object, letter: Letter, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.recipients = {r.pk: r for r in replies.replied_recipients(letter)}
        field: Any = self.fields["recipient"]
        field.choices = [(pk, r.name) for pk, r in self.recipients.items()]

    def clean_file(self) -> UploadedFile[Any] | None:
        upload: UploadedFile[Any] | None = self.cleaned_data.get("file")
        if upload is None:
            return None
        again = gettext("Choose the file again: a browser cannot keep it.")
        limit = settings.REPLY_FILE_MAX_BYTES
        if (upload.size or 0) > limit:
            message = gettext("The file is too big: %(size)s, the limit is %(limit)s.") % {
                "size": filesizeformat(upload.size or 0),
                "limit": filesizeformat(limit),
            }
            raise forms.ValidationError(f"{message} {again}", code="too_big")
        if replies.uploaded_file_type(upload) is None:
            message = gettext("This file is not a PDF, PNG or JPEG.")
            raise forms.ValidationError(f"{message} {again}", code="file_type")
        return upload

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("text") and not cleaned.get("file") and not self.has_error("file"):
            self.add_error("text", gettext("Paste the text of the reply, or upload it as a file."))
        return cleaned


@personal_page
@require_http_methods(["GET", "POST"])
def reply_answer(request: HttpRequest, link: str, answer: str) -> HttpResponse:
    """One of the email's three links. A GET only shows a button (mail scanners open
    links); the POST keeps the answer, and "yes" leads on to the reply page."""
    letter = _letter_or_problem(request, link)
    if isinstance(letter, HttpResponse):
        return letter
    if answer not in ReplyAnswer.values:
        return render(request, "public/link_problem.html", {}, status=404)
    if request.method == "POST":
        replies.record_answer(letter=letter, answer=answer)
        if answer == ReplyAnswer.YES:
            return HttpResponseRedirect(reverse("public:letter_reply", args=[link]))
        return render(request, "public/reply_answer.html", {"letter": letter, "link": link, "recorded": True})
    context = {"letter": letter, "link": link, "answer": answer, "label": ANSWER_LABELS[ReplyAnswer(answer)]}
    return render(request, "public/reply_answer.html", context)


@personal_page
@require_http_methods(["GET", "POST"])
def letter_reply(request: HttpRequest, link: str) -> HttpResponse:
    letter = _letter_or_problem(request, link)
    if isinstance(letter, HttpResponse):
        return letter
    saved = list(
        Reply.objects.filter(letter=letter, source=ReplySource.SUPPORTER).select_related("recipient").order_by("pk")
    )
    form = (
        ReplyForm(request.POST or None, request.FILES or None, letter=letter)
        if request.method == "POST"
        else ReplyForm(letter=letter)
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            recipient = form.recipients.get(form.cleaned_data["recipient"])
            if recipient is not None:
                replies.record_supporter_reply(
                    letter=letter,
                    recipient=recipient,
                    text=form.cleaned_data["text"],
                    may_quote=form.cleaned_data["may_quote"],
                    upload=form.cleaned_data["file"],
                )
                return HttpResponseRedirect(reverse("public:letter_reply", args=[link]) + "?saved=1")
        status = 400
    context = {"letter": letter, "campaign": letter.campaign, "link": link, "form": form, "saved": saved,
               "forward": replies.forward_addresses(letter),
               "just_saved": request.GET.get("saved") == "1"}  # fmt: skip
    return render(request, "public/letter_reply.html", context, status=status)


@personal_page
@require_http_methods(["GET"])
def letter_reply_file(request: HttpRequest, link: str, reply_id: int) -> HttpResponseBase:
    """The file of a reply the supporter uploaded, to the holder of the letter's private link."""
    letter = _letter_or_problem(request, link)
    if isinstance(letter, HttpResponse):
        return letter
    reply = Reply.objects.filter(pk=reply_id, letter=letter).exclude(file="").first()
    if reply is None:
        raise Http404("No such file")
    return private_file_response(reply.file, reply.file_type, replies.reply_file_download_name(reply))
