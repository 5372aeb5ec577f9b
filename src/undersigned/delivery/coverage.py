"""A campaign's coverage board: the members of its recipient group that letters reached,
from the kept tally behind ``queries.letters_by_recipient`` (never a count over letters
here) and the group's members (bounded by the group's size limit)."""

from __future__ import annotations

from collections.abc import Sequence

from undersigned.campaigns import queries as campaign_queries
from undersigned.campaigns.coverage import Board, build_board
from undersigned.campaigns.models import Campaign

from .queries import letters_by_recipient


def campaign_board(
    campaign: Campaign, *, sort: str = "name", members: Sequence[tuple[int, str, str, int]] | None = None
) -> Board | None:
    """The board of ``campaign``, or None when it is not addressed to a group.

    ``members``: the group's members as ``campaigns.queries.group_members`` reads them,
    when the caller keeps them already (the public page's kept campaign)."""
    group = campaign.recipient_group
    if group is None:
        return None
    return build_board(
        members=campaign_queries.group_members(group.pk) if members is None else members,
        counts=letters_by_recipient(campaign.pk),
        decision_date=group.decision_date,
        sort=sort,
    )
