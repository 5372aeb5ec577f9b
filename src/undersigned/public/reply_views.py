"""The supporter's side of replies: the answer links of the "Did you get a reply?"
email, and the page (also reached from the private link) to paste the reply."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from undersigned.core.form_fields import MultiLineField
from undersigned.core.http import personal_page
from undersigned.delivery import replies
from undersigned.delivery.models import Reply, ReplySource
from undersigned.letters.models import Letter, ReplyAnswer

from .views import _letter_or_problem

ANSWER_LABELS = {ReplyAnswer.YES: _("Yes"), ReplyAnswer.NOT_YET: _("Not yet"), ReplyAnswer.NO: _("No")}


class ReplyForm(forms.Form):
    recipient = forms.TypedChoiceField(label=_("Who replied?"), coerce=int, empty_value=None)
    text = MultiLineField(
        label=_("The reply"),
        max_length=settings.REPLY_TEXT_MAX_CHARS,
        error_messages={
            "required": _("Paste the text of the reply."),
            "max_length": _("The reply is too long: %(show_value)d characters, the limit is %(limit_value)d."),
        },
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("It stays private: only the organisers see it."),
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
    form = ReplyForm(request.POST if request.method == "POST" else None, letter=letter)
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
                )
                return HttpResponseRedirect(reverse("public:letter_reply", args=[link]) + "?saved=1")
        status = 400
    context = {"letter": letter, "campaign": letter.campaign, "link": link, "form": form, "saved": saved,
               "forward": replies.forward_addresses(letter),
               "just_saved": request.GET.get("saved") == "1"}  # fmt: skip
    return render(request, "public/letter_reply.html", context, status=status)
