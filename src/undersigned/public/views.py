"""The supporter's journey: campaign page, composer, sending, thanks.

Views only translate HTTP into calls to services and queries of the data apps.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timeuntil
from django.utils.translation import gettext, ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from undersigned.campaigns import queries as campaign_queries
from undersigned.campaigns.coverage import Board, clean_sort
from undersigned.campaigns.coverage import countdown as vote_countdown
from undersigned.campaigns.enums import Channel, Routing
from undersigned.campaigns.languages import (
    CampaignText,
    campaign_texts,
    default_language,
    find_text,
    language_name,
    reading_text,
    text_in,
)
from undersigned.campaigns.models import Campaign, Recipient
from undersigned.campaigns.routing import Route, Why, route
from undersigned.core import abuse, countries
from undersigned.core.db_faults import form_again_when_unavailable
from undersigned.core.emails import mailbox_identity
from undersigned.core.http import mark_personal, personal_page
from undersigned.core.kept_pages import MARK, kept_page, nonce
from undersigned.core.sanitising import markdown_to_html
from undersigned.core.security import client_ip, hash_ip
from undersigned.core.shared_pages import shared_page
from undersigned.core.templatetags.text_direction import text_direction
from undersigned.delivery import digests, pdf_process, replies
from undersigned.delivery import services as delivery_services
from undersigned.delivery.addresses import letter_copy_address
from undersigned.delivery.channels import mailto
from undersigned.delivery.channels.post import pdf_filename, printable
from undersigned.delivery.coverage import campaign_board
from undersigned.delivery.models import Delivery
from undersigned.delivery.printing import PAPERS, Paper
from undersigned.delivery.queries import deliveries_by_recipient_channel, letters_by_recipient
from undersigned.discussion.services import discussion_for
from undersigned.letters import composer_counts
from undersigned.letters import queries as letter_queries
from undersigned.letters import services as letter_services
from undersigned.letters import tasks as letter_tasks
from undersigned.letters import texts as letter_texts
from undersigned.letters.links import LinkExpired, LinkInvalid, sign_token
from undersigned.letters.models import Letter
from undersigned.letters.personalisation import Personalised, personalise
from undersigned.letters.queries import letter_from_link, text_for
from undersigned.letters.uniqueness import own_words_percent
from undersigned.openletters.queries import letter_for_page, public_letters
from undersigned.organisations import access
from undersigned.organisations.access import Action, organiser_kind
from undersigned.supporters import services as supporter_services
from undersigned.supporters.models import ConsentPurpose

from .campaign_cache import CampaignView, DiscussionTeaser, campaign_view
from .forms import ComposerForm, MyLinkForm, SenderAddressForm, UpdatesOptInForm, VersionFields, version_field_names

logger = logging.getLogger(__name__)


def _campaign_or_404(slug: str) -> CampaignView:
    view = campaign_view(slug)
    if view is None:
        raise Http404("No such campaign")
    return view


def _absolute(path: str) -> str:
    return settings.BASE_URL + path


@dataclass(frozen=True)
class ShareLinks:
    url: str
    email: str
    mastodon: str
    bluesky: str
    whatsapp: str


def share_links(campaign: Campaign, summary: str | None = None) -> ShareLinks:
    """Links that share the campaign; ``summary`` is the one the visitor read (a
    translation's), the main language's by default."""
    url = _absolute(reverse("public:campaign", args=[campaign.slug]))
    # Translators: a post sharing a campaign on social media; %(title)s is its title.
    text = gettext("%(title)s — write a letter: %(url)s") % {"title": campaign.title, "url": url}
    summary = campaign.summary if summary is None else summary
    return ShareLinks(
        url=url,
        email=mailto.mailto_uri(to=[], subject=campaign.title, body=f"{summary}\n\n{url}"),
        mastodon="https://mastodon.social/share?text=" + quote(text, safe=""),
        bluesky="https://bsky.app/intent/compose?text=" + quote(text, safe=""),
        whatsapp="https://wa.me/?text=" + quote(text, safe=""),
    )


HOME_CAMPAIGNS = 20  # a page (``?page=N``)
HOME_OPEN_LETTERS = 6


@dataclass(frozen=True)
class CampaignCard:
    """A campaign in a list, with its summary in the visitor's language when it has one."""

    campaign: Campaign
    text: CampaignText


def campaign_cards(campaigns: list[Campaign]) -> list[CampaignCard]:
    """The list's campaigns with their text in the visitor's site language (one query
    for the whole list, whatever its length)."""
    language = translation.get_language() or ""
    near = campaign_queries.translations_near([c.pk for c in campaigns], language)
    return [
        CampaignCard(c, text_in(campaign_texts(campaign=c, template=None, translations=near.get(c.pk, [])), language))
        for c in campaigns
    ]


@require_GET
@shared_page
def home(request: HttpRequest) -> HttpResponse:
    page = Paginator(campaign_queries.public_campaigns(), HOME_CAMPAIGNS).get_page(request.GET.get("page"))
    # The newest few open letters; /open-letters/ lists them all.
    open_letters = list(public_letters()[: HOME_OPEN_LETTERS + 1]) if page.number == 1 else []
    context = {
        "page": page,
        "cards": campaign_cards(list(page)),
        "open_letters": open_letters[:HOME_OPEN_LETTERS],
        "more_open_letters": len(open_letters) > HOME_OPEN_LETTERS,
    }
    return render(request, "public/home.html", context)


def draft_page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    """A page without a public version (a draft, an archived campaign or open letter) for
    its organisation's members: rendered for this visitor alone, never kept nor shared."""
    owner = context["owner"]
    context["may_edit"] = access.can(request.user, Action.RUN_CAMPAIGNS, owner.organisation_id)
    response = render(request, template, {**context, "draft": True})
    mark_personal(response)
    return response


def member_may_preview(request: HttpRequest, organisation_id: int) -> bool:
    """Whether the visitor is a member (any role) of the organisation that owns a draft."""
    return bool(request.user.is_authenticated and access.can(request.user, Action.VIEW, organisation_id))


def _counter_sentence(count: int) -> str:
    """The campaign's counter in the page's language and in the plural form ``count`` takes."""
    # Translators: %(count)s is the number of letters, shown in bold.
    return ngettext("%(count)s letter sent so far", "%(count)s letters sent so far", count)


def _counter_html(sentence: str, shown: str) -> SafeString:
    strong = format_html('<strong data-testid="letters-sent">{}</strong>', shown)
    return mark_safe(conditional_escape(sentence) % {"count": strong})  # noqa: S308 (both parts escaped)


def _draft_campaign_page(request: HttpRequest, slug: str) -> HttpResponse:
    campaign = campaign_queries.draft_for_members(slug)
    if campaign is None or not member_may_preview(request, campaign.organisation_id):
        raise Http404("No such campaign")
    texts = campaign_texts(
        campaign=campaign, template=campaign.template, translations=campaign_queries.translations_of(campaign)
    )
    reading = _reading(request, texts)
    context = {
        "campaign": campaign,
        "owner": campaign,
        "counter_html": _counter_html(_counter_sentence(campaign.letters_sent), intcomma(campaign.letters_sent)),
        **reading.context(request, campaign),
        "background_html": markdown_to_html(reading.text.background),
        "recipients": campaign_queries.campaign_recipients(campaign),
        "now": timezone.now(),
        "editor_url": reverse("dashboard:campaign_edit", args=[campaign.slug]),
        "board": None,
    }
    return draft_page(request, "public/campaign.html", context)


def _public_responsiveness(view: CampaignView, board: Board | None) -> list[replies.Responsiveness]:
    """The public "who replies" table, or nothing when the organisers keep it private:
    per member of the group (in the board's order) or per recipient of the campaign."""
    campaign = view.campaign
    if not campaign.responsiveness_public:
        return []
    if board is not None:
        rows = replies.responsiveness(campaign.pk, names={m.recipient_id: m.name for m in board.members}, everyone=True)
        order = {m.recipient_id: i for i, m in enumerate(board.members)}
        return sorted(rows, key=lambda row: order[row.recipient_id])
    return replies.responsiveness(campaign.pk, names={r.pk: r.name for r in view.recipients}, everyone=True)


@dataclass(frozen=True)
class ReadingLanguage:
    """A language the campaign's page can be read in: a plain link (``?text=fr``)."""

    language: str
    name: str  # as its readers write it ("français")
    current: bool


@dataclass(frozen=True)
class Reading:
    """Which of the campaign's texts its page shows, and whether the visitor chose it."""

    texts: tuple[CampaignText, ...]
    text: CampaignText
    # A link on the page asked for it: the composer is then started in it too.
    chosen: bool

    @property
    def key(self) -> tuple[str, bool]:
        """Part of a kept page's key: one of the campaign's own codes, whatever the query
        string, so a campaign has a few kept pages per site language at most."""
        return self.text.language, self.chosen

    def context(self, request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
        compose = reverse("public:compose", args=[campaign.slug])
        # A visitor reading the main language without asking for it gets the composer's own
        # choice: the language the letter's recipients read (``_starting_language``).
        if self.chosen or not self.text.main:
            compose += "?text_language=" + quote(self.text.language, safe="")
        languages = [
            ReadingLanguage(t.language, language_name(t.language, local=True), t.language == self.text.language)
            for t in self.texts
        ]
        return {
            "text": self.text,
            "compose_url": compose,
            "reading_languages": languages if len(languages) > 1 else [],
            "reading_path": request.path,
        }


def _reading(request: HttpRequest, texts: tuple[CampaignText, ...]) -> Reading:
    """The text asked for (``?text=``, one of the campaign's languages), else the one in
    the visitor's site language, else the main language's (``campaigns.languages``)."""
    asked = str(request.GET.get("text") or "")[:20]
    text = reading_text(texts, asked=asked, visitor=translation.get_language() or "")
    return Reading(texts, text, chosen=bool(asked) and find_text(texts, asked) is not None)


@require_GET
@shared_page
def campaign_page(request: HttpRequest, slug: str) -> HttpResponse:
    found = campaign_view(slug)
    if found is None:
        # A draft is shown to its organisation's members only, at its real address.
        return _draft_campaign_page(request, slug)
    view = found
    campaign, now = view.campaign, timezone.now()
    # What changes with the clock or the counter is part of the key, or filled in per request.
    countdown = timeuntil(campaign.deadline, now) if campaign.deadline and campaign.deadline > now else ""
    # The sentence (language and plural form) is part of the key; the number is filled in per request.
    counter = _counter_sentence(view.letters_sent)
    # The discussion's teaser (mode, count) is read fresh with the stamp: comments come
    # and go between campaign edits, so it is part of the key, not of the kept campaign.
    discussion = view.discussion
    if discussion is None:  # the campaign's first view: its discussion starts open
        created = discussion_for(campaign)
        discussion = DiscussionTeaser(created.pk, created.mode, created.comment_count)
    teaser = (discussion.pk, discussion.mode, discussion.comment_count)
    # A group's coverage board: the kept tally, one row per member, read per request and
    # part of the key, so the kept page moves as soon as a letter reaches a member.
    board = None
    if campaign.recipient_group:
        sort = clean_sort(request.GET.get("sort"))
        board = campaign_board(campaign, sort=sort, members=view.snapshot.group_members)
    vote = vote_countdown(board.decision_date, timezone.localdate()) if board else ""
    board_key = (board.key, vote) if board else None
    # Who replies, when the organisers chose to show it: counts from the kept tallies
    # (two queries, whatever the number of letters), part of the key like the board.
    answered = _public_responsiveness(view, board)
    answered_key = tuple((r.recipient_id, r.letters, r.replied, r.median_days) for r in answered)
    # The summary and background in the visitor's language, or the one a link asked for.
    reading = _reading(request, view.snapshot.texts)
    key = (
        "campaign", *_page_key(request, view), campaign.is_open, countdown, counter, teaser, board_key, answered_key,
        reading.key,
    )  # fmt: skip

    def page() -> HttpResponse:
        return render(
            request,
            "public/campaign.html",
            {
                "campaign": campaign,
                "counter_html": _counter_html(counter, MARK["count"]),
                **reading.context(request, campaign),
                "background_html": view.snapshot.background_html_of(reading.text),
                "recipients": view.recipients,
                "share": share_links(campaign, reading.text.summary),
                "now": now,
                "csp_nonce": MARK["nonce"],
                "discussion": discussion,
                "board": board,
                "vote_countdown": vote,
                "responsiveness": answered,
                "my_link_form": MyLinkForm(),  # "get my link again"
            },
        )

    return kept_page(key, page, {"count": intcomma(view.letters_sent), "nonce": nonce(request)})


def _my_link_page(
    request: HttpRequest, campaign: Campaign, form: MyLinkForm, *, sent: bool = False, status: int = 200
) -> HttpResponse:
    context = {"campaign": campaign, "form": form, "sent": sent}
    response = render(request, "public/my_link.html", context, status=status)
    if form.is_bound:
        mark_personal(response)  # the address as typed
    return response


# Without a CSRF token: the campaign page, which carries this form, is shared by every
# visitor (core/shared_pages.py) and so has none. Nothing here acts on the visitor's
# session or cookies: it mails an address the links of its own letters, so a request
# forged from another site can do nothing its sender could not do directly; the
# honeypot and the rate limits per IP hash and per address hold (MyLinkForm).
@csrf_exempt
@require_http_methods(["GET", "POST"])
def my_link(request: HttpRequest, slug: str) -> HttpResponse:
    """ "Get my link again": email the links of an address's letters in this campaign.

    The answer never tells whether the address wrote a letter here: the same redirect
    to the same page, and the same work (a task is enqueued either way, with no letter
    for an unknown address). A double submit or reload sends one email: the limit per
    address lets one through in its window and is silent about the rest.
    """
    campaign = _campaign_or_404(slug).campaign
    if request.method != "POST":
        return _my_link_page(request, campaign, MyLinkForm(), sent=request.GET.get("sent") == "1")
    form = MyLinkForm(request.POST)
    wait = abuse.rate_limit(request, "my_link", settings.RATE_LIMITS["my_link"])
    if wait:
        return abuse.form_again_later(form, wait, lambda status: _my_link_page(request, campaign, form, status=status))
    if not form.is_valid():
        return _my_link_page(request, campaign, form, status=400)
    email = form.cleaned_data["email"]
    key = f"{campaign.pk}:{mailbox_identity(email)}"
    if not abuse.rate_limit(request, "my_link_email", settings.RATE_LIMITS["my_link_email"], key=key):
        letter_tasks.send_links.enqueue(letter_queries.letters_of_address(campaign_id=campaign.pk, email=email))
    return HttpResponseRedirect(reverse("public:my_link", args=[slug]) + "?sent=1")


def _preview(
    data: Mapping[str, Any],
    campaign: Campaign,
    recipient: Recipient | None,
    text: CampaignText,
    names: tuple[str, str] = ("subject", "body"),
) -> tuple[Personalised, int]:
    """The letter (or its version in ``text``'s language: ``names`` of its fields) as
    ``recipient`` reads it, and its own-words score against ``text``'s template."""
    body = str(data.get(names[1], "")).replace("\r\n", "\n")
    subject = str(data.get(names[0], ""))
    country = str(data.get("country", ""))
    personalised = personalise(
        subject=subject[: settings.LETTER_SUBJECT_MAX_CHARS],
        body=body[: settings.LETTER_BODY_MAX_CHARS],
        sender_name=str(data.get("name", ""))[:120],
        sender_town=str(data.get("town", ""))[:120],
        sender_country=countries.name(country),
        recipient_name=recipient.name if recipient else "",
        recipient_role=recipient.role if recipient else "",
        recipient_organisation=recipient.organisation_name if recipient else "",
        campaign_title=campaign.title,
        language=text.language,
    )
    score = own_words_percent(body[: settings.LETTER_BODY_MAX_CHARS], text.body)
    return personalised, score


def _starting_text(campaign: Campaign, open_letter_slug: str) -> str | None:
    """The text of a published open letter linked to this campaign ("Write your own letter
    in similar terms"), as the composer's starting text; None for any other slug."""
    letter = letter_for_page(open_letter_slug) if open_letter_slug else None
    if letter is None or letter.letter_campaign_id != campaign.pk or letter.current_version is None:
        return None
    return letter.current_version.text.strip()


def _version_initial(versions: tuple[CampaignText, ...], draft: Letter | None = None) -> dict[str, str]:
    """The starting subject and body of each version: the draft's own, else that language's template."""
    written = {v.language: v for v in letter_texts.versions_of(draft)} if draft is not None else {}
    initial = {}
    for text in versions:
        subject, body = version_field_names(text.language)
        own = written.get(text.language)
        initial[subject] = own.subject if own else text.subject
        initial[body] = own.body if own else text.body
    return initial


def _initial(
    draft: Letter | None,
    campaign: Campaign,
    text: CampaignText,
    open_letter_slug: str = "",
    versions: tuple[CampaignText, ...] = (),
) -> dict[str, Any]:
    if draft is None:
        body = _starting_text(campaign, open_letter_slug) or text.body
        return {
            "submission_key": uuid.uuid4(),
            "subject": text.subject,
            "body": body,
            "text_language": text.language,
            **_version_initial(versions),
        }
    return {
        **_version_initial(versions, draft),
        "text_language": text.language,
        "submission_key": draft.submission_key,
        "name": draft.sender_name,
        "email": draft.supporter.email,
        "town": draft.sender_town,
        "country": draft.sender_country,
        "postal_address": draft.sender_address,
        "recipient": draft.addressed_to_id or "",
        "subject": draft.subject,
        "body": draft.body,
    }


def _save(request: HttpRequest, form: ComposerForm, view: CampaignView, draft_link: str) -> HttpResponse:
    campaign = view.campaign
    data = form.cleaned_data
    try:
        letter = letter_services.save_letter(
            campaign=campaign,
            submission_key=data["submission_key"],
            data=letter_services.LetterInput(
                name=data["name"],
                email=data["email"],
                town=data["town"],
                country=data["country"],
                postal_address=data["postal_address"],
                subject=data["subject"],
                body=data["body"],
                addressed_to_id=data.get("addressed_to"),
                text_language=data.get("text_language") or "",
                versions=form.cleaned_versions(),
            ),
            ip_hash=hash_ip(client_ip(request)),
            texts=view.snapshot.texts,
        )
    except letter_services.LetterAlreadySent:
        form.add_error(
            None, "This letter has already been sent, so it can't change any more. Reload the page to write a new one."
        )
        return _compose_page(request, view, form, draft_link, status=409)
    return HttpResponseRedirect(reverse("public:letter", args=[sign_token(letter.token)]))


def _compose_again(request: HttpRequest, slug: str, *, message: str) -> HttpResponse:
    """The composer with what was typed and ``message``, when the letter could not be saved."""
    view = _campaign_or_404(slug)
    text = _starting_language(request, view, None)
    versions = _version_texts(view, text) if _versions_wanted(request, None) else ()
    form = ComposerForm(
        request.POST, campaign=view.campaign, route_for=_route_for(view), texts=view.snapshot.texts, versions=versions
    )
    form.add_error(None, message)
    draft_link = request.GET.get("draft") or request.POST.get("draft") or ""
    return _compose_page(request, view, form, draft_link, status=503)


@form_again_when_unavailable(_compose_again)
@require_http_methods(["GET", "POST"])
def compose(request: HttpRequest, slug: str) -> HttpResponse:
    response = _compose(request, slug)
    if request.method == "POST" or "draft" in request.GET:
        # A draft, or the form again with what was typed: someone's own words and address.
        mark_personal(response)
    return response


def _compose(request: HttpRequest, slug: str) -> HttpResponse:
    view = _campaign_or_404(slug)
    campaign = view.campaign
    draft: Letter | None = None
    draft_link = request.GET.get("draft") or request.POST.get("draft") or ""
    if draft_link:
        found = _letter_or_problem(request, draft_link)
        if isinstance(found, HttpResponse):
            return found
        if found.campaign_id != campaign.pk:
            return render(request, "public/link_problem.html", {}, status=404)
        if found.sent_at is not None:
            return HttpResponseRedirect(reverse("public:letter", args=[draft_link]))
        draft = found

    if not campaign.is_open:
        return render(request, "public/closed.html", {"campaign": campaign})

    from_letter = request.GET.get("from", "")[:80]  # an open letter's text to start from
    if request.META.get("REQUEST_METHOD") == "GET" and draft is None and not getattr(request, "htmx", False):
        # The results funnel's first step: a count per campaign and day, nothing of the
        # visitor. Not a HEAD (link checkers; core/http.py shows it to views as a GET).
        composer_counts.opened(campaign.pk)
    texts = view.snapshot.texts
    text = _starting_language(request, view, draft)
    versions = _version_texts(view, text, draft) if _versions_wanted(request, draft) else ()
    fresh = request.method != "POST" and draft is None and not from_letter and not versions
    if fresh and not getattr(request, "htmx", False):
        return _fresh_composer(request, view, text)
    route_for = _route_for(view)
    if request.method != "POST":
        initial = _initial(draft, campaign, text, from_letter, versions)
        form = ComposerForm(initial=initial, campaign=campaign, route_for=route_for, texts=texts, versions=versions)
    elif request.POST.get("action") != "continue":
        # A preview keeps what was typed but shows no errors: the person is still writing.
        # It is also the step that shows whom the letter goes to once the country is chosen,
        # and the one that adds a version per language (each from its template) or drops them.
        initial = {**_version_initial(versions), **request.POST.dict()}
        form = ComposerForm(initial=initial, campaign=campaign, route_for=route_for, texts=texts, versions=versions)
    else:
        form = ComposerForm(request.POST, campaign=campaign, route_for=route_for, texts=texts, versions=versions)
        return _continue(request, view, form, draft_link)
    return _compose_page(request, view, form, draft_link)


def _versions_wanted(request: HttpRequest, draft: Letter | None) -> bool:
    """Whether the supporter writes the letter once per language: asked for by the
    composer's button (kept in the form while writing) or its link, or a draft that
    has versions; "One letter for everyone" drops them."""
    if request.method == "POST":
        return request.POST.get("versions") == "1" and not request.POST.get("one_text")
    if request.GET.get("versions") == "1":
        return True
    return draft is not None and bool(draft.version_languages)


def _version_texts(view: CampaignView, text: CampaignText, draft: Letter | None = None) -> tuple[CampaignText, ...]:
    """The languages a letter can be written in besides ``text``'s: those of the campaign's
    texts its recipients read (and a draft's own versions), in the campaign's order.
    None for a routed letter: it goes to one member, in one language."""
    if _route_for(view) is not None:
        return ()
    texts = view.snapshot.texts
    read = {found.language for r in view.recipients if (found := find_text(texts, r.language)) is not None}
    if draft is not None:
        read |= set(letter_texts.version_codes(draft))
    return tuple(t for t in texts if t.language in read and t.language != text.language)


@dataclass(frozen=True)
class VersionView:
    """One of the letter's texts in the composer: its language, who gets it, its preview."""

    text: CampaignText
    name: str  # the language as its readers write it
    direction: str
    readers: tuple[Recipient, ...]
    preview: Personalised
    score: int
    fields: VersionFields | None  # None: the main text (the form's own subject and body)


def _version_views(
    form: ComposerForm, view: CampaignView, data: Mapping[str, Any], text: CampaignText
) -> list[VersionView]:
    """The main text and each version with the recipients who get it (as ``letters.texts``
    chooses after saving) and its preview to the first of them."""
    others = [v.language for v in form.versions]
    readers: dict[str, list[Recipient]] = {}
    for recipient in view.recipients:
        readers.setdefault(letter_texts.pick_language(text.language, others, recipient.language), []).append(recipient)
    fields = {f.text.language: f for f in form.version_fields}
    out = []
    for each in (text, *form.versions):
        names = ("subject", "body") if each is text else version_field_names(each.language)
        who = tuple(readers.get(each.language, ()))
        preview, score = _preview(data, view.campaign, who[0] if who else None, each, names)
        out.append(
            VersionView(
                text=each,
                name=language_name(each.language, local=True),
                direction=text_direction(each.language),
                readers=who,
                preview=preview,
                score=score,
                fields=fields.get(each.language),
            )
        )
    return out


def _starting_language(request: HttpRequest, view: CampaignView, draft: Letter | None) -> CampaignText:
    """The campaign's text a letter is written from: a draft's own, the one asked for
    (the composer's language choice, or the form's hidden field), else the language its
    recipients read (``campaigns.languages.default_language``)."""
    texts = view.snapshot.texts
    asked = draft.text_language if draft is not None else ""
    asked = asked or str(request.POST.get("text_language") or request.GET.get("text_language") or "")[:10]
    found = find_text(texts, asked) if asked else None
    if found is not None:
        return found
    return text_in(texts, default_language(texts, [r.language for r in view.recipients]))


def _continue(request: HttpRequest, view: CampaignView, form: ComposerForm, draft_link: str) -> HttpResponse:
    """The person pressed Continue: save the letter, or show the form again with the reasons."""
    # Only sending counts: previews come on every pause in typing.
    wait = abuse.rate_limit(request, "compose", settings.RATE_LIMITS["compose"])
    if wait:  # nothing is saved
        return abuse.form_again_later(
            form, wait, lambda status: _compose_page(request, view, form, draft_link, status=status)
        )
    if form.is_valid():
        return _save(request, form, view, draft_link)
    # The form again with what was typed and each message beside its field.
    return _compose_page(request, view, form, draft_link, status=400)


def _compose_page(
    request: HttpRequest,
    view: CampaignView,
    form: ComposerForm,
    draft_link: str,
    *,
    status: int = 200,
    extra: dict[str, str] | None = None,
) -> HttpResponse:
    campaign = view.campaign
    recipients = view.recipients
    preview_data = form.data if form.is_bound else form.initial
    route, chosen = _route_shown(view, form, preview_data)
    first = next((r for r in recipients if chosen is not None and r.pk == chosen), None)
    preview_to = first or (recipients[0] if recipients else None)
    texts = view.snapshot.texts
    text = text_in(texts, str(preview_data.get("text_language") or ""))
    preview, score = _preview(preview_data, campaign, preview_to, text)
    languages = _language_choice(texts, text, recipients) if len(texts) > 1 else None
    versions = _version_views(form, view, preview_data, text) if form.versions else []
    context = {
        "campaign": campaign,
        "template": text,
        "text_language": text,
        "languages": languages,
        # Recipients read several languages the campaign has a text in: the supporter may
        # write the letter once per language (a button of the form: what was typed stays).
        "offer_versions": bool(languages and languages["mixed"] and not form.versions and _version_texts(view, text)),
        "versions": versions,
        "route_language": _route_language(view, chosen, text),
        "recipients": recipients,
        "form": form,
        "preview": preview,
        "preview_to": preview_to,
        "score": score,
        "draft_link": draft_link,
        "route": route,
        "route_text": _route_text(route),
        "chosen": chosen,
        "route_signature": _signature(route),
        **(extra or {}),
    }
    if getattr(request, "htmx", False):  # set by django_htmx's middleware
        html = render_to_string("public/compose.html#preview-area", context, request)
        if route is not None and preview_data.get("route_shown") != context["route_signature"]:
            # The country changed: whom it goes to changes too, swapped in beside the form.
            html += render_to_string("public/compose.html#route-area", {**context, "oob": True}, request)
        return HttpResponse(html, status=status)
    return render(request, "public/compose.html", context, status=status)


@dataclass(frozen=True)
class LanguageOption:
    language: str
    name: str  # as its readers write it ("français")
    selected: bool
    # How many of the letter's recipients read it (a hint beside the name).
    readers: int


def _language_choice(
    texts: tuple[CampaignText, ...], text: CampaignText, recipients: tuple[Recipient, ...]
) -> dict[str, Any]:
    """The composer's choice of the campaign's languages, and whether its recipients differ."""
    read = [find_text(texts, r.language) for r in recipients if r.language]
    options = [
        LanguageOption(
            language=t.language,
            name=language_name(t.language, local=True),
            selected=t.language == text.language,
            readers=sum(1 for found in read if found is not None and found.language == t.language),
        )
        for t in texts
    ]
    return {"options": options, "mixed": len({found.language if found else "" for found in read}) > 1}


def _route_language(view: CampaignView, chosen: int | None, text: CampaignText) -> LanguageOption | None:
    """The language of the member a routed letter goes to, when the campaign has its text
    in it and the letter is in another: the composer offers to start from it."""
    if chosen is None:
        return None
    member = next((r for r in view.recipients if r.pk == chosen), None)
    found = find_text(view.snapshot.texts, member.language) if member is not None else None
    if found is None or found.language == text.language:
        return None
    return LanguageOption(found.language, language_name(found.language, local=True), False, 1)


def _route_for(view: CampaignView) -> Callable[[str], Route] | None:
    """How this campaign routes a letter from a country, or None when it goes to every recipient."""
    campaign = view.campaign
    if campaign.recipient_group_id is None or campaign.routing == Routing.EVERY:
        return None
    reached: dict[int, int] = {}
    read = False

    def route_for(country: str) -> Route:
        nonlocal reached, read
        if campaign.routing == Routing.OWN_OR_UNREACHED and not read:
            # The kept tally, one row per member: read only when the rule needs it.
            reached, read = letters_by_recipient(campaign.pk), True
        return route(
            rule=campaign.routing,
            members=view.snapshot.members,
            reached=reached,
            country=country,
            well_covered_at=campaign.well_covered_at,
        )

    return route_for


def _route_shown(view: CampaignView, form: ComposerForm, data: Mapping[str, Any]) -> tuple[Route | None, int | None]:
    """The route the composer shows for the country typed, and the member ticked (or None)."""
    route_for = form.route_for
    if route_for is None:
        return None, None
    found = route_for(str(data.get("country") or ""))
    raw = str(data.get("recipient") or "")
    if raw.isdigit() and found.allows(int(raw)):
        return found, int(raw)
    return found, found.choices[0].recipient_id if found.choices else None


def _signature(route: Route | None) -> str:
    if route is None:
        return ""
    return ":".join([route.why, *(str(m.recipient_id) for m in route.choices)])


def _route_text(route: Route | None) -> str:
    """Why the letter goes where it goes, in a sentence above the choice."""
    if route is None:
        return ""
    own = route.own[0] if route.own else None
    country = countries.name(own.country) if own else ""
    if route.why == Why.NO_COUNTRY:
        return gettext("Your letter goes to the member for your country. Choose your country to see who that is.")
    if route.why == Why.OWN and not route.needs_choice and own is not None:
        return gettext("Your letter goes to %(name)s, the member for %(country)s.") % {
            "name": own.name,
            "country": country,
        }
    if route.why == Why.OWN:
        return gettext("%(country)s has several members: choose whom your letter goes to.") % {"country": country}
    if route.why == Why.WELL_COVERED and own is not None:
        return gettext(
            "%(name)s, the member for %(country)s, has already had many letters. Your letter counts for more "
            "with a member nobody has reached yet: choose one, or keep your own."
        ) % {"name": own.name, "country": country}
    return gettext("Your country has no member in this group: choose whom your letter goes to.")


def _visitor(request: HttpRequest) -> str:
    """The kind of visitor, part of a kept page's key (what base.html's header shows)."""
    return organiser_kind(getattr(request, "user", None))


def _page_key(request: HttpRequest, view: CampaignView) -> tuple[Any, ...]:
    return (view.campaign.slug, view.snapshot.stamp, translation.get_language(), _visitor(request))


def _fresh_composer(request: HttpRequest, view: CampaignView, text: CampaignText) -> HttpResponse:
    campaign = view.campaign

    def page() -> HttpResponse:
        initial = {
            **_initial(None, campaign, text),
            "submission_key": MARK["key"],
            abuse.STARTED_FIELD: MARK["started"],
        }
        form = ComposerForm(initial=initial, campaign=campaign, route_for=_route_for(view), texts=view.snapshot.texts)
        marked = {"csrf_token": MARK["csrf"], "csp_nonce": MARK["nonce"]}
        return _compose_page(request, view, form, "", extra=marked)

    values = {
        "csrf": get_token(request),
        "key": str(uuid.uuid4()),
        "started": abuse.started_token(),
        "nonce": nonce(request),
    }
    # The letter's language is one of the campaign's own codes: a few kept pages per campaign at most.
    return kept_page(("composer", *_page_key(request, view), text.language), page, values)


@dataclass
class ChannelOption:
    channel: str
    available: bool
    reason: str
    delivery: Delivery | None


@dataclass
class RecipientCard:
    recipient: Recipient
    text: Personalised
    compose: mailto.ComposeLinks | None
    options: list[ChannelOption]


def _letter_or_problem(request: HttpRequest, link: str) -> Letter | HttpResponse:
    try:
        letter = letter_from_link(link)
    except LinkExpired:
        return render(request, "public/link_problem.html", {"expired": True}, status=410)
    except LinkInvalid:
        letter = None
    if letter is None:
        return render(request, "public/link_problem.html", {}, status=404)
    return letter


def _cards(letter: Letter) -> list[RecipientCard]:
    campaign = letter.campaign
    letter_texts.preload_versions([letter])  # a letter written once per language: one query
    deliveries = deliveries_by_recipient_channel(letter)
    with translation.override(letter.text_language or campaign.language or settings.LANGUAGE_CODE):
        # The body of a new email when the letter is too long for a link: in the letter's language.
        paste_note = gettext("Paste the text of your letter here, in place of this line.")
    cards = []
    for recipient in campaign_queries.campaign_recipients(campaign):
        if letter.addressed_to_id is not None and recipient.pk != letter.addressed_to_id:
            continue  # a routed letter goes to its one member
        text = text_for(letter, recipient)
        options = []
        for channel in campaign.template.allowed_channels:
            try:
                delivery_services.check_channel(letter=letter, recipient=recipient, channel=channel)
                available, reason = True, ""
            except delivery_services.ChannelUnavailable as exc:
                available, reason = False, str(exc)
            options.append(ChannelOption(str(channel), available, reason, deliveries.get((recipient.pk, channel))))
        links = (
            mailto.compose_links(
                to=recipient.email,
                subject=text.subject,
                body=text.body,
                bcc=letter_copy_address(letter.pk),
                paste_note=paste_note,
            )
            if recipient.email
            else None
        )
        cards.append(RecipientCard(recipient, text, links, options))
    return cards


@personal_page
@require_GET
def letter_page(request: HttpRequest, link: str) -> HttpResponse:
    letter = _letter_or_problem(request, link)
    if isinstance(letter, HttpResponse):
        return letter
    return _send_page(request, letter, link, SenderAddressForm(initial={"postal_address": letter.sender_address}))


@dataclass(frozen=True)
class LetterVersion:
    """One of a saved letter's texts and the names of the recipients who get it."""

    text: letter_texts.ChosenText
    name: str
    direction: str
    readers: list[str]


def _letter_versions(letter: Letter, cards: list[RecipientCard]) -> list[LetterVersion]:
    """Each text of a letter written once per language, with whom it goes to (as the
    cards chose); nothing for a letter with one text."""
    if not letter.version_languages:
        return []
    return [
        LetterVersion(
            text=text,
            name=language_name(text.language, local=True),
            direction=text_direction(text.language),
            readers=[card.recipient.name for card in cards if card.text.language == text.language],
        )
        for text in letter_texts.all_texts(letter)
    ]


def _send_page(
    request: HttpRequest, letter: Letter, link: str, address_form: SenderAddressForm, *, status: int = 200
) -> HttpResponse:
    cards = _cards(letter)
    context = {
        "letter": letter,
        "campaign": letter.campaign,
        "link": link,
        "cards": cards,
        "versions": _letter_versions(letter, cards),
        "address_form": address_form,
        "letter_url": _absolute(reverse("public:letter", args=[link])),
    }
    return render(request, "public/letter.html", context, status=status)


@personal_page
@require_POST
def letter_address(request: HttpRequest, link: str) -> HttpResponse:
    letter = _letter_or_problem(request, link)
    if isinstance(letter, HttpResponse):
        return letter
    form = SenderAddressForm(request.POST)
    if not form.is_valid():
        return _send_page(request, letter, link, form, status=400)
    letter_services.set_sender_address(letter=letter, postal_address=form.cleaned_data["postal_address"])
    return HttpResponseRedirect(reverse("public:letter", args=[link]) + "#post")


def _problem(request: HttpRequest, link: str, message: str, *, status: int) -> HttpResponse:
    """Why a send-page action could not be done, with a way back to the letter."""
    return render(request, "public/letter_problem.html", {"link": link, "message": message}, status=status)


def _recipient_of(letter: Letter, raw: str | None) -> Recipient | None:
    try:
        recipient_id = int(raw or "")
    except ValueError:
        return None
    return letter.campaign.recipients.filter(pk=recipient_id).first()


@personal_page
@require_GET
def letter_pdf(request: HttpRequest, link: str) -> HttpResponse:
    letter = _letter_or_problem(request, link)
    if isinstance(letter, HttpResponse):
        return letter
    recipient = _recipient_of(letter, request.GET.get("recipient"))
    paper_raw = request.GET.get("paper", "a4")
    if recipient is None or paper_raw not in PAPERS:
        raise Http404("No such letter")
    paper: Paper = "us-letter" if paper_raw == "us-letter" else "a4"
    try:
        delivery_services.check_channel(letter=letter, recipient=recipient, channel=Channel.POST)
    except delivery_services.ChannelUnavailable as exc:
        return _problem(request, link, str(exc), status=409)
    try:
        # In a child process: typst and its fonts never load into the web worker.
        data = pdf_process.render_letters([printable(letter, recipient, day=timezone.localdate())], paper=paper)
    except ValueError:
        # Only organiser data can exceed the renderer's limits (e.g. an 8-line address).
        logger.warning("letter %s could not be printed for recipient %s", letter.pk, recipient.pk)
        message = gettext("We couldn't print this letter: the recipient's address is too long for the envelope window.")
        return _problem(request, link, message, status=409)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf_filename(letter, recipient, paper)}"'
    return response


@personal_page
@require_POST
def letter_send(request: HttpRequest, link: str) -> HttpResponse:
    letter = _letter_or_problem(request, link)
    if isinstance(letter, HttpResponse):
        return letter
    recipient = _recipient_of(letter, request.POST.get("recipient"))
    channel_raw = request.POST.get("channel", "")
    if recipient is None or channel_raw not in Channel.values:
        return _problem(
            request,
            link,
            "We couldn't tell which recipient or way of sending you chose. Please go back and try again.",
            status=400,
        )
    try:
        delivery_services.record_delivery(
            letter=letter,
            recipient=recipient,
            channel=Channel(channel_raw),
            copy_to_sender=request.POST.get("copy") == "on",
        )
    except delivery_services.ChannelUnavailable as exc:
        return _problem(request, link, str(exc), status=409)
    return HttpResponseRedirect(reverse("public:thanks", args=[link]))


@personal_page
@require_POST
def letter_post_for_me(request: HttpRequest, link: str) -> HttpResponse:
    letter = _letter_or_problem(request, link)
    if isinstance(letter, HttpResponse):
        return letter
    recipient = _recipient_of(letter, request.POST.get("recipient"))
    if recipient is None:
        return _problem(
            request,
            link,
            gettext("We couldn't tell which recipient you chose. Please go back and try again."),
            status=400,
        )
    try:
        delivery_services.request_post(letter=letter, recipient=recipient)
    except delivery_services.ChannelUnavailable as exc:
        return _problem(request, link, str(exc), status=409)
    return HttpResponseRedirect(reverse("public:thanks", args=[link]))


@personal_page
@require_http_methods(["GET", "POST"])
def thanks(request: HttpRequest, link: str) -> HttpResponse:
    letter = _letter_or_problem(request, link)
    if isinstance(letter, HttpResponse):
        return letter
    campaign = letter.campaign
    wording = supporter_services.campaign_updates_wording(campaign)
    form = UpdatesOptInForm(request.POST if request.method == "POST" else None)
    status = 400 if form.is_bound else 200  # a valid form redirects below
    if request.method == "POST" and form.is_valid():
        if not supporter_services.has_consent(
            supporter=letter.supporter, purpose=ConsentPurpose.CAMPAIGN_UPDATES, campaign=campaign
        ):
            supporter_services.record_consent(
                supporter=letter.supporter,
                purpose=ConsentPurpose.CAMPAIGN_UPDATES,
                granted=True,
                wording=wording,
                source="thank-you page",
                campaign=campaign,
                ip_hash=hash_ip(client_ip(request)),
            )
        return HttpResponseRedirect(reverse("public:thanks", args=[link]) + "?subscribed=1")
    subscribed = supporter_services.has_consent(
        supporter=letter.supporter, purpose=ConsentPurpose.CAMPAIGN_UPDATES, campaign=campaign
    )
    return render(
        request,
        "public/thanks.html",
        {
            "letter": letter,
            "campaign": campaign,
            "link": link,
            "form": form,
            "wording": wording,
            "subscribed": subscribed,
            "share": share_links(campaign, _summary_in(campaign, letter.text_language)),
            "deliveries": list(Delivery.objects.filter(letter=letter).select_related("recipient")),
        },
        status=status,
    )


def _summary_in(campaign: Campaign, language: str) -> str | None:
    """The campaign's summary in ``language`` from the kept campaign (its main language's
    when it has none in it), or None when the campaign has no public page."""
    view = campaign_view(campaign.slug)
    return text_in(view.snapshot.texts, language).summary if view is not None and view.snapshot.texts else None


@personal_page
@require_GET
def read_letter(request: HttpRequest, token: str) -> HttpResponse:
    """A recipient reads one letter in full, from the link in their daily digest."""
    delivery_id = digests.delivery_from_read_token(token)
    delivery = (
        Delivery.objects.select_related("letter__campaign__organisation", "letter__supporter", "recipient")
        .filter(pk=delivery_id, channel=Channel.EMAIL, letter__isnull=False)  # a letter, not a pack or an update
        .first()
        if delivery_id is not None
        else None
    )
    if delivery is None:
        return render(request, "public/link_problem.html", {}, status=404)
    return render(
        request,
        "public/read_letter.html",
        {"delivery": delivery, "text": text_for(delivery.sent_letter, delivery.sent_recipient)},
    )
