"""What a campaign's public pages show, kept in each web worker between requests.

The campaign page, the composer and every letter POST need the campaign with its
template, organisation and recipients. Loading them through the ORM cost more CPU per
request than the rest of the campaign page (see docs/performance.md). They change
rarely, so each worker keeps them and asks the database, per request, only for the
campaign's own row (``campaigns.queries.campaign_page_stamp``: id, counter,
``updated_at``, status, deadline: one row by its key). The kept copy is used
while that stamp matches and reloaded when it does not; edits to the template,
translations, recipients or organisation move the campaign's ``updated_at`` (``campaigns/signals.py``),
so an organiser's edit shows on the next request in every worker. The stamp's SQL is
compiled by the ORM once per process and then run with a plain cursor.

``letters_sent`` changes with every letter, so it is read fresh with the stamp and is
not part of it: the kept copy's own ``campaign.letters_sent`` is stale, use
``CampaignView.letters_sent``.

The kept objects are shared by requests: treat them as read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from undersigned.campaigns import queries as campaign_queries
from undersigned.campaigns.languages import CampaignText, campaign_texts
from undersigned.campaigns.models import Campaign, Recipient
from undersigned.campaigns.routing import Member
from undersigned.core.kept_copies import KeptCopies, stamp_row
from undersigned.core.sanitising import markdown_to_html


@dataclass(frozen=True)
class CampaignSnapshot:
    stamp: tuple[Any, ...]
    campaign: Campaign  # with template and organisation loaded; read-only
    recipients: tuple[Recipient, ...]
    background_html: str  # in the main language
    # The recipients as routing reads them, with their group's vote weights (``campaigns/routing.py``).
    members: tuple[Member, ...] = ()
    # The group's members for its coverage board (``campaigns.queries.group_members``).
    group_members: tuple[tuple[int, str, str, int], ...] = ()
    # The campaign's text in each of its languages, the main one first (``campaigns/languages.py``).
    texts: tuple[CampaignText, ...] = ()
    # Each translation's own background as HTML, by its language: rendered once per change
    # of the campaign, not per request. A translation without one shows the main language's.
    backgrounds_html: tuple[tuple[str, str], ...] = ()

    def background_html_of(self, text: CampaignText) -> str:
        """The background ``text`` shows, as HTML (in ``text.background_language``)."""
        return dict(self.backgrounds_html).get(text.background_language, self.background_html)


@dataclass(frozen=True)
class DiscussionTeaser:
    """What the campaign page shows of its discussion, read fresh with the stamp."""

    pk: int
    mode: str
    comment_count: int

    @property
    def is_shown(self) -> bool:
        return self.mode != "off"


@dataclass(frozen=True)
class CampaignView:
    snapshot: CampaignSnapshot
    letters_sent: int
    discussion: DiscussionTeaser | None = None

    @property
    def campaign(self) -> Campaign:
        return self.snapshot.campaign

    @property
    def recipients(self) -> tuple[Recipient, ...]:
        return self.snapshot.recipients


_kept: KeptCopies[CampaignSnapshot] = KeptCopies()


def _stamp(slug: str) -> tuple[Any, ...] | None:
    return stamp_row(campaign_queries.campaign_page_stamp, slug)


def _load(slug: str, stamp: tuple[Any, ...]) -> CampaignSnapshot | None:
    campaign = campaign_queries.campaign_for_page(slug)
    if campaign is None:
        return None
    recipients = tuple(campaign_queries.campaign_recipients(campaign))
    group: list[tuple[int, str, str, int]] = []
    if campaign.recipient_group_id is not None:
        group = campaign_queries.group_members(campaign.recipient_group_id)
    weights = {pk: weight for pk, _n, _c, weight in group}
    texts = campaign_texts(
        campaign=campaign, template=campaign.template, translations=campaign_queries.translations_of(campaign)
    )
    return CampaignSnapshot(
        stamp=stamp,
        campaign=campaign,
        recipients=recipients,
        background_html=markdown_to_html(campaign.background),
        members=tuple(Member(r.pk, r.name, r.country.upper(), weights.get(r.pk, 1)) for r in recipients),
        group_members=tuple(group),
        texts=texts,
        backgrounds_html=tuple(
            (t.language, markdown_to_html(t.background))
            for t in texts
            if not t.main and t.background_language == t.language
        ),
    )


def campaign_view(slug: str) -> CampaignView | None:
    """The public (live or closed) campaign behind ``slug`` with its live counter, or None."""
    row = _stamp(slug)
    if row is None:
        return None
    letters_sent, stamp = int(row[1]), (row[0], *row[2:5], row[8])
    discussion = DiscussionTeaser(int(row[5]), str(row[6]), int(row[7])) if row[5] is not None else None
    snapshot = _kept.get(slug, stamp, lambda: _load(slug, stamp))
    if snapshot is None:
        return None
    return CampaignView(snapshot, letters_sent, discussion)
