"""Reads for open letters. Every query the public page makes uses an index and a limit,
so its cost does not grow with the number of endorsements."""

from __future__ import annotations

import datetime
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Prefetch, QuerySet

from undersigned.campaigns import queries as campaign_queries
from undersigned.campaigns.coverage import Board, build_board, endorsement_counts
from undersigned.campaigns.models import Recipient
from undersigned.core.emails import mailbox_identity
from undersigned.delivery.models import Delivery
from undersigned.letters.models import Letter

from .models import (
    Endorsement,
    EndorsementCountry,
    EndorsementStatus,
    EndorsementTally,
    EndorsementTallyKind,
    OpenLetter,
    OpenLetterStatus,
    OpenLetterTranslation,
    OpenLetterVersion,
    Update,
    UpdateTranslation,
)
from .text import fold

PAGE_SIZE = 50
FEATURED_LIMIT = 12
SEARCH_MAX_CHARS = 100
# The statuses whose letters have public pages; a draft or an archived letter is a 404
# (its organisation's members see a draft's preview, never kept or shared).
PAGE_STATUSES = (OpenLetterStatus.PUBLISHED, OpenLetterStatus.CLOSED)


def published_translations() -> Prefetch[Any]:
    """A letter's translations that have a published version, with it (``published_texts``)."""
    return Prefetch(
        "translations",
        queryset=OpenLetterTranslation.objects.filter(current_version__isnull=False).select_related("current_version"),
        to_attr="published_translations",
    )


def letter_for_page(slug: str) -> OpenLetter | None:
    """A published or closed letter with what its page shows, its published translations
    too (``published_texts``); drafts and archived letters have no page."""
    return (
        OpenLetter.objects.select_related(
            "organisation", "current_version", "recipient_group", "letter_campaign", "discussion"
        )
        .prefetch_related(published_translations())
        .filter(status__in=PAGE_STATUSES)
        .filter(slug=slug, current_version__isnull=False)
        .first()
    )


@dataclass(frozen=True)
class LetterText:
    """A letter's published text in one language: the version its page shows and its
    endorsers endorse, and the summary in that language (the main one's if left empty)."""

    language: str
    version: OpenLetterVersion
    summary: str
    main: bool = False

    @property
    def title(self) -> str:
        return self.version.title


def published_texts(letter: OpenLetter) -> list[LetterText]:
    """The letter's published texts, the main language's first, then each translation's
    (by code). Read from the kept letter's prefetched translations (``letter_for_page``),
    or with one query otherwise. Empty for a letter never published."""
    version = letter.current_version
    if version is None:
        return []
    translations = getattr(letter, "published_translations", None)
    if translations is None:
        translations = list(
            OpenLetterTranslation.objects.filter(letter=letter, current_version__isnull=False).select_related(
                "current_version"
            )
        )
    main = LetterText(language=version.language, version=version, summary=letter.summary, main=True)
    others = [
        LetterText(language=t.language, version=t.current_version, summary=t.summary or letter.summary)
        for t in sorted(translations, key=lambda t: str(t.language))
        if t.current_version is not None and t.language != main.language
    ]
    return [main, *others]


def translations_of(letter: OpenLetter) -> list[OpenLetterTranslation]:
    """The letter's translations (the editor's tabs), by language, with their current versions."""
    return list(OpenLetterTranslation.objects.filter(letter=letter).select_related("current_version"))


def translation_of(letter: OpenLetter, language: str) -> OpenLetterTranslation | None:
    """The letter's translation in ``language`` (ignoring case), or None."""
    return (
        OpenLetterTranslation.objects.filter(letter=letter, language__iexact=language)
        .select_related("current_version")
        .first()
    )


def public_letters() -> QuerySet[OpenLetter]:
    """Published open letters, newest first (a fixed order, so pages never overlap)."""
    return (
        OpenLetter.objects.filter(status=OpenLetterStatus.PUBLISHED, current_version__isnull=False)
        .select_related("organisation")
        .order_by("-published_at", "-id")
    )


def addressees(letter: OpenLetter) -> list[Recipient]:
    """The letter's addressees: its group's members (in name order) or its recipients."""
    if letter.recipient_group_id is not None:
        return list(Recipient.objects.filter(groups=letter.recipient_group_id).order_by("name", "id"))
    return list(letter.recipients.order_by("name", "id"))


def featured(letter: OpenLetter) -> list[Endorsement]:
    return list(
        Endorsement.objects.filter(letter=letter, featured=True, is_listed=True).order_by("-id")[:FEATURED_LIMIT]
    )


@dataclass(frozen=True)
class EndorserPage:
    endorsements: list[Endorsement]
    next_before: int | None  # the id to continue from, if there are more


def public_endorsers(
    letter: OpenLetter, *, search: str = "", country: str = "", before: int | None = None, limit: int = PAGE_SIZE
) -> EndorserPage:
    """Named endorsers, newest first, ``limit`` at a time (keyset pagination by id).

    Never counts: the page asks for one row more than it shows to know whether there is
    a next page. The search matches any part of the name, the organisation or who signs
    for one, both sides folded by ``text.fold`` (case, accents, apostrophes, punctuation;
    PostgreSQL answers it from a trigram index). A search of only punctuation is none.
    """
    rows = Endorsement.objects.filter(letter=letter, is_listed=True)
    if country:
        rows = rows.filter(country=country)
    folded = fold(search[:SEARCH_MAX_CHARS])
    if folded:
        rows = rows.filter(search_text__contains=folded)
    if before is not None:
        rows = rows.filter(id__lt=before)
    found = list(
        rows.order_by("-id").only(
            "id", "kind", "name", "role", "organisation", "country", "statement", "website", "signatory"
        )[: limit + 1]
    )
    more = len(found) > limit
    found = found[:limit]
    return EndorserPage(found, found[-1].pk if more and found else None)


def countries_with_endorsers(letter: OpenLetter) -> list[str]:
    """Countries with at least one named endorser (kept counts, one small row per country)."""
    return list(
        EndorsementCountry.objects.filter(letter=letter, listed__gt=0)
        .exclude(country="")
        .order_by("country")
        .values_list("country", flat=True)
    )


def unnamed_count(letter: OpenLetter) -> int:
    """Verified endorsers who chose not to be named (from the kept per-country counts)."""
    named = sum(EndorsementCountry.objects.filter(letter=letter).values_list("listed", flat=True))
    return max(0, letter.verified_count - named)


def country_counts(letter: OpenLetter) -> dict[str, int]:
    """Verified endorsements per country (kept counts), for hand-in packs per addressee."""
    return dict(EndorsementCountry.objects.filter(letter=letter).values_list("country", "count"))


def versions(letter: OpenLetter) -> list[OpenLetterVersion]:
    return list(OpenLetterVersion.objects.filter(letter=letter).order_by("number"))


def letter_page_stamp(slug: str) -> QuerySet[Any, tuple[Any, ...]]:
    """One row that changes whenever anything ``letter_for_page`` loads changes: the
    letter's own columns that pages show or act on (``updated_at`` moves with every
    ``save()`` and every counter change) and the ``updated_at`` of the rows it joins.
    Workers keep the loaded letter while this row stays the same (``public/open_letter_cache.py``).
    Joins by primary key only; one row by the unique slug."""
    return (
        OpenLetter.objects.filter(status__in=PAGE_STATUSES)
        .filter(slug=slug, current_version__isnull=False)
        .order_by()
        .values_list(
            "pk",
            "updated_at",
            "status",
            "deadline",
            "current_version_id",
            "verified_count",
            "withdrawn_count",
            "pow_required",
            "organisation__updated_at",
            "letter_campaign__updated_at",
            "recipient_group__updated_at",
            # The discussion's teaser under the letter (one-to-one; a new comment or a
            # mode change reloads the kept letter, which is rare next to page views).
            "discussion__id",
            "discussion__mode",
            "discussion__comment_count",
        )
    )


def draft_for_members(slug: str) -> OpenLetter | None:
    """A letter without a public page (a draft, an archived one), for its organisation's members."""
    return (
        OpenLetter.objects.exclude(status__in=PAGE_STATUSES)
        .select_related("organisation", "recipient_group", "letter_campaign")
        .filter(slug=slug)
        .first()
    )


def endorsed_version_count(letter: OpenLetter) -> int:
    """Confirmed endorsements of the letter's current text: what the editor warns about.

    A count, on the organisers' editor only (one index range of one version), never on
    a public page.
    """
    if letter.current_version_id is None:
        return 0
    return Endorsement.objects.filter(
        letter=letter, version_id=letter.current_version_id, status=EndorsementStatus.CONFIRMED
    ).count()


EXPORT_CHUNK = 2000  # rows read from the database at a time


def endorsements_for_export(letter: OpenLetter) -> Iterator[Endorsement]:
    """Every endorsement of a letter by id (any status), ``EXPORT_CHUNK`` at a time.
    The email address and what is kept for confirming and withdrawing are not loaded."""
    return (
        Endorsement.objects.filter(letter=letter)
        .order_by("id")
        .only(
            "id",
            "kind",
            "name",
            "role",
            "organisation",
            "signatory",
            "country",
            "website",
            "statement",
            "show_publicly",
            "status",
            "is_listed",
            "hidden",
            "hidden_reason",
            "featured",
            "version_id",
            "created_at",
            "confirmed_at",
            "withdrawn_at",
        )
        .iterator(chunk_size=EXPORT_CHUNK)
    )


# --- Results (the dashboard's results page) -------------------------------------------------

RESULT_MAX_DAYS = 92  # confirmations by day: at most the latest this many days


@dataclass(frozen=True)
class LetterResults:
    """An open letter's endorsements as its organisers follow them."""

    confirmed: int  # confirmed, not withdrawn, not hidden (the kept counter)
    withdrawn: int  # the kept counter
    hidden: int
    pending: int  # waiting for their email confirmation
    countries: list[tuple[str, int]]  # confirmed by country (kept counts), most first
    days: list[tuple[datetime.date, int]]  # confirmations by day, oldest first, gaps filled


def letter_results(letter: OpenLetter) -> LetterResults:
    """Kept counters only (the letter's own, ``EndorsementCountry``, ``EndorsementTally``):
    two small queries whatever the number of endorsements."""
    tallies: dict[str, dict[str, int]] = {kind.value: {} for kind in EndorsementTallyKind}
    for kind, key, n in EndorsementTally.objects.filter(letter=letter).values_list("kind", "key", "count"):
        tallies.setdefault(kind, {})[key] = n
    confirmed_days = {
        datetime.date.fromisoformat(day): n for day, n in tallies[EndorsementTallyKind.CONFIRMED_DAY].items() if n
    }
    days: list[tuple[datetime.date, int]] = []
    if confirmed_days:
        last = max(confirmed_days)
        first = max(min(confirmed_days), last - datetime.timedelta(days=RESULT_MAX_DAYS - 1))
        for n in range((last - first).days + 1):
            day = first + datetime.timedelta(days=n)
            days.append((day, confirmed_days.get(day, 0)))
    countries = (
        EndorsementCountry.objects.filter(letter=letter, count__gt=0)
        .order_by("-count", "country")
        .values_list("country", "count")
    )
    return LetterResults(
        confirmed=letter.verified_count,
        withdrawn=letter.withdrawn_count,
        hidden=tallies[EndorsementTallyKind.HIDDEN].get("", 0),
        pending=tallies[EndorsementTallyKind.PENDING].get("", 0),
        countries=list(countries),
        days=days,
    )


def letter_board(letter: OpenLetter, *, sort: str = "name") -> Board | None:
    """The coverage board of a letter addressed to a group: each member counts the
    verified endorsements from their country (the kept ``EndorsementCountry`` rows, one
    per country), or None without a group. Counts only: it is shown publicly."""
    group = letter.recipient_group
    if group is None:
        return None
    members = campaign_queries.group_members(group.pk)
    by_country = dict(EndorsementCountry.objects.filter(letter=letter).values_list("country", "count"))
    return build_board(
        members=members,
        counts=endorsement_counts(members, by_country),
        decision_date=group.decision_date,
        sort=sort,
    )


# --- Updates (openletters/services/updates.py) ---


def updates_of(*, campaign_id: int | None = None, open_letter_id: int | None = None) -> list[Update]:
    """A campaign's or an open letter's updates, newest first."""
    rows = (
        Update.objects.filter(campaign_id=campaign_id)
        if campaign_id is not None
        else Update.objects.filter(open_letter_id=open_letter_id)
    )
    return list(rows.select_related("created_by").order_by("-created_at", "-id"))


def update_of(update_id: int, *, campaign_id: int | None = None, open_letter_id: int | None = None) -> Update | None:
    """One update of this campaign (or open letter), or None."""
    rows = Update.objects.select_related("organisation", "campaign", "open_letter")
    if campaign_id is not None:
        return rows.filter(pk=update_id, campaign_id=campaign_id).first()
    return rows.filter(pk=update_id, open_letter_id=open_letter_id).first()


def update_send_counts(update_ids: list[int]) -> dict[int, dict[str, int]]:
    """How many of each update's emails are in each delivery status: one grouped query."""
    counts: dict[int, dict[str, int]] = {pk: {} for pk in update_ids}
    rows = (
        Delivery.objects.filter(update_id__in=update_ids)
        .values("update_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        counts[row["update_id"]][row["status"]] = row["n"]
    return counts


# How many supporters one ``IN (…)`` reads at a time (databases cap a statement's parameters).
_LANGUAGES_CHUNK = 500


def supporter_languages(
    *, supporters: Sequence[tuple[int, str]], campaign_id: int | None = None, open_letter_id: int | None = None
) -> dict[int, str]:
    """The site language each supporter (id, email) used on this campaign or open letter:
    that of their latest letter to the campaign, or of their endorsement of the open letter
    (one per address). Supporters with none recorded are left out. Reads in chunks, each
    through an index (a letter's supporter; an endorsement's letter and address)."""
    found: dict[int, str] = {}
    for start in range(0, len(supporters), _LANGUAGES_CHUNK):
        chunk = supporters[start : start + _LANGUAGES_CHUNK]
        if campaign_id is not None:
            letters = (
                Letter.objects.filter(campaign_id=campaign_id, supporter_id__in=[pk for pk, _email in chunk])
                .exclude(language="")
                .order_by("supporter_id", "created_at", "id")
                .values_list("supporter_id", "language")
            )
            found.update(letters)  # in date order: the latest letter's language stays
        elif open_letter_id is not None:
            # Two addresses may fold to one identity (provider aliases): both get its language.
            by_identity: dict[str, list[int]] = {}
            for pk, email in chunk:
                by_identity.setdefault(mailbox_identity(email), []).append(pk)
            endorsements = (
                Endorsement.objects.filter(letter_id=open_letter_id, email_normalised__in=list(by_identity))
                .exclude(language="")
                .values_list("email_normalised", "language")
            )
            found.update((pk, language) for identity, language in endorsements for pk in by_identity[identity])
    return found


def version_language(person: str | None, *, main: str, available: Collection[str]) -> str:
    """Which version of an update a person gets: the one in their language (``fr`` also
    for ``fr-ca``), else the update's main language."""
    if person:
        for code in (person, person.split("-")[0]):
            if code in available:
                return code
    return main


def update_translations(update_id: int) -> dict[str, UpdateTranslation]:
    """An update's versions in other languages, by language."""
    return {t.language: t for t in UpdateTranslation.objects.filter(update_id=update_id)}
