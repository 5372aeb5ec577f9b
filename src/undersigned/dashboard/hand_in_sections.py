"""Handing an open letter addressed to a recipient group to every member at once.

One page per letter: start ONE batch that builds every member's pack (PDF and CSV) and a
single ZIP (a print job of kind "sections", watched like every print job; the page
refreshes itself without JavaScript while it builds), email each member its pack through
the delivery engine, record packs handed in another way and replies, and see every
member's status. Only those who may run campaigns for the letter's organisation
(``managed_open_letter_or_404``) see or change any of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from undersigned.campaigns.models import Recipient
from undersigned.delivery import bulk_print
from undersigned.delivery.models import Delivery, Evidence
from undersigned.openletters.models import HandedInHow, HandInPack, OpenLetter
from undersigned.openletters.services import sections

from .permissions import dashboard_user_required, managed_open_letter_or_404

# How a pack was handed in, as the status table says it; the ways the organiser can
# record by hand (email is what the platform records itself).
_HOW_LABELS = {
    HandedInHow.EMAIL: gettext_lazy("by email from the platform"),
    HandedInHow.IN_PERSON: gettext_lazy("in person"),
    HandedInHow.POST: gettext_lazy("by post"),
    HandedInHow.OTHER: gettext_lazy("another way"),
}
BY_HAND = [
    (HandedInHow.IN_PERSON.value, gettext_lazy("In person")),
    (HandedInHow.POST.value, gettext_lazy("By post")),
    (HandedInHow.OTHER.value, gettext_lazy("Another way")),
]
_EVIDENCE_LABELS = {
    Evidence.NONE: gettext_lazy("None yet"),
    Evidence.SELF_REPORTED: gettext_lazy("Self-reported"),
    Evidence.VERIFIED_COPY: gettext_lazy("Verified copy"),
    Evidence.PLATFORM_DELIVERED: gettext_lazy("Platform delivered"),
    Evidence.REPLY_RECEIVED: gettext_lazy("Reply received"),
}


def _letter(request: HttpRequest, slug: str) -> OpenLetter:
    letter = managed_open_letter_or_404(request.user, slug)
    if letter.recipient_group_id is None:
        raise Http404("This letter is not addressed to a recipient group")
    return letter


def _url(letter: OpenLetter) -> str:
    return reverse("dashboard:hand_in_sections", args=[letter.slug])


@dataclass(frozen=True)
class MemberRow:
    recipient: Recipient
    pack: HandInPack | None
    delivery: Delivery | None

    @property
    def built(self) -> bool:
        return self.pack is not None and self.pack.built_at is not None

    @property
    def evidence(self) -> int:
        values = [self.pack.evidence if self.pack else 0, self.delivery.evidence if self.delivery else 0]
        return max(values)

    @property
    def evidence_label(self) -> str:
        return str(_EVIDENCE_LABELS[Evidence(self.evidence)])

    @property
    def handed_in_how(self) -> str:
        if self.delivery is not None and self.delivery.sent_at is not None and self.delivery.status == "sent":
            return str(_HOW_LABELS[HandedInHow.EMAIL])
        if self.pack is not None and self.pack.handed_in_how:
            return str(_HOW_LABELS[HandedInHow(self.pack.handed_in_how)])
        return ""

    @property
    def handed_in_at(self) -> object:
        if self.delivery is not None and self.delivery.sent_at is not None and self.delivery.status == "sent":
            return self.delivery.sent_at
        return self.pack.handed_in_at if self.pack is not None else None

    @property
    def no_email(self) -> bool:
        return not self.recipient.email or self.recipient.email_flagged_at is not None


def _rows(letter: OpenLetter) -> list[MemberRow]:
    packs = sections.packs_by_member(letter)
    deliveries = sections.latest_deliveries(letter)
    return [MemberRow(r, packs.get(r.pk), deliveries.get(r.pk)) for r in sections.members(letter)]


@require_GET
@dashboard_user_required
def sections_page(request: HttpRequest, slug: str) -> HttpResponse:
    return _render(request, _letter(request, slug))


def _render(
    request: HttpRequest, letter: OpenLetter, *, errors: dict[int, str] | None = None, status: int = 200
) -> HttpResponse:
    batch = sections.latest_batch(letter)
    now = timezone.now()
    running = batch is not None and batch.status in bulk_print.ACTIVE
    context = {
        "letter": letter,
        "batch": batch,
        "running": running,
        "stalled": batch is not None and bulk_print.is_stalled(batch, now=now),
        "done_batch": sections.latest_done_batch(letter),
        "rows": _rows(letter),
        "by_hand": BY_HAND,
        "errors": errors or {},
        "attach_max_mb": settings.HAND_IN_ATTACH_MAX_BYTES // 1_000_000,
    }
    return render(request, "dashboard/hand_in_sections.html", context, status=status)


@require_POST
@dashboard_user_required
def sections_build(request: HttpRequest, slug: str) -> HttpResponse:
    letter = _letter(request, slug)
    started = sections.start_batch(letter=letter, actor=request.user)
    if started.created:
        messages.success(
            request, gettext("Every section's pack is being built. You can leave this page and come back.")
        )
    else:
        messages.info(
            request,
            gettext("A batch of packs is already being built; it was started at %(time)s. Wait for it to finish.")
            % {"time": timezone.localtime(started.job.created_at).strftime("%H:%M")},
        )
    return HttpResponseRedirect(_url(letter))


@require_POST
@dashboard_user_required
def sections_send(request: HttpRequest, slug: str) -> HttpResponse:
    letter = _letter(request, slug)
    sent = sections.send_packs(letter=letter, actor=request.user)
    if sent.queued:
        messages.success(
            request,
            ngettext(
                "%(count)s pack is queued to be emailed.", "%(count)s packs are queued to be emailed.", sent.queued
            )
            % {"count": sent.queued},
        )
    elif sent.already:
        messages.info(request, gettext("Every pack with an address was already emailed; nothing was sent twice."))
    else:
        messages.error(request, gettext("No pack could be emailed: build the packs first."))
    if sent.without_email:
        messages.warning(
            request,
            ngettext(
                "%(count)s member has no usable email address: hand its pack in another way.",
                "%(count)s members have no usable email address: hand their packs in another way.",
                len(sent.without_email),
            )
            % {"count": len(sent.without_email)},
        )
    return HttpResponseRedirect(_url(letter))


@require_POST
@dashboard_user_required
def sections_record(request: HttpRequest, slug: str, recipient_id: int) -> HttpResponse:
    letter = _letter(request, slug)
    recipient = next((r for r in sections.members(letter) if r.pk == recipient_id), None)
    if recipient is None:
        raise Http404("No such member")
    pack = sections.pack_for(letter, recipient)
    if request.POST.get("what") == "reply":
        if sections.record_reply(pack=pack, actor=request.user):
            messages.success(request, gettext("Reply from %(name)s recorded.") % {"name": recipient.name})
        else:
            messages.info(request, gettext("The reply from %(name)s was already recorded.") % {"name": recipient.name})
        return HttpResponseRedirect(f"{_url(letter)}#member-{recipient.pk}")
    how = request.POST.get("how", "")
    if how not in dict(BY_HAND):
        return _render(
            request, letter, errors={recipient.pk: gettext("Choose how the pack was handed in.")}, status=400
        )
    sections.record_handed_in(pack=pack, how=how, actor=request.user)
    messages.success(request, gettext("Hand-in to %(name)s recorded.") % {"name": recipient.name})
    return HttpResponseRedirect(f"{_url(letter)}#member-{recipient.pk}")
