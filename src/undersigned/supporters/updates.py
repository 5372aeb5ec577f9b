"""Who an organisation's update reaches, and the one-click unsubscribe that stops them.

An update about a campaign (or an open letter) reaches the supporters whose latest
consent row for it grants (``queries.agreed_to_updates``), less those who unsubscribed
from the organisation's updates since: the unsubscribe link in every update writes an
``ORGANISATION_UPDATES`` withdrawal for the organisation. A grant given after that
withdrawal (the person ticked the box again, on a new letter or endorsement) counts.

The unsubscribe token is signed and names the supporter and the organisation, so a
link only ever stops one person's updates from one organisation. It never expires: an
old update's link must still work.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext

from undersigned.organisations.models import Organisation

from . import services
from .models import ConsentPurpose, ConsentRecord, Supporter
from .queries import agreed_to_updates

_UNSUBSCRIBE_SALT = "undersigned.supporters.updates.unsubscribe"


class UnsubscribeLinkInvalid(Exception):
    pass


def unsubscribe_token(*, supporter_id: int, organisation_id: int) -> str:
    return signing.Signer(salt=_UNSUBSCRIBE_SALT).sign_object({"s": supporter_id, "o": organisation_id})


def read_unsubscribe_token(token: str) -> tuple[int, int]:
    """The (supporter id, organisation id) a link was made for; ``UnsubscribeLinkInvalid`` otherwise."""
    try:
        data = signing.Signer(salt=_UNSUBSCRIBE_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError):
        raise UnsubscribeLinkInvalid from None
    if not isinstance(data, dict) or not isinstance(data.get("s"), int) or not isinstance(data.get("o"), int):
        raise UnsubscribeLinkInvalid
    return int(data["s"]), int(data["o"])


def unsubscribe_wording(organisation: Organisation) -> str:
    """Shown beside the unsubscribe button, and recorded with the withdrawal."""
    return gettext(
        "You will receive no further updates from %(organisation)s about any of its campaigns or open letters."
    ) % {"organisation": organisation.name}


def _withdrawn_at(*, organisation_id: int, supporter_ids: Collection[int] | None = None) -> dict[int, datetime]:
    """When each supporter last unsubscribed from the organisation's updates."""
    rows = ConsentRecord.objects.filter(
        purpose=ConsentPurpose.ORGANISATION_UPDATES, organisation_id=organisation_id, granted=False
    )
    if supporter_ids is not None:
        rows = rows.filter(supporter_id__in=supporter_ids)
    latest: dict[int, datetime] = {}
    for supporter_id, created_at in rows.values_list("supporter_id", "created_at").iterator(chunk_size=2000):
        if supporter_id not in latest or created_at > latest[supporter_id]:
            latest[supporter_id] = created_at
    return latest


def is_unsubscribed(*, supporter_id: int, organisation_id: int) -> bool:
    return bool(_withdrawn_at(organisation_id=organisation_id, supporter_ids=[supporter_id]))


def unsubscribe(*, supporter: Supporter, organisation: Organisation, wording: str, ip_hash: str = "") -> bool:
    """Record the withdrawal, once: a second press (or a mail program's repeated POST)
    while still unsubscribed writes nothing. Returns whether a row was written."""
    with transaction.atomic():
        Supporter.objects.select_for_update().filter(pk=supporter.pk).first()  # one press at a time
        if is_unsubscribed(supporter_id=supporter.pk, organisation_id=organisation.pk):
            return False
        services.record_consent(
            supporter=supporter,
            purpose=ConsentPurpose.ORGANISATION_UPDATES,
            granted=False,
            wording=wording,
            source="update unsubscribe link",
            organisation=organisation,
            ip_hash=ip_hash,
        )
    return True


@dataclass(frozen=True)
class Audience:
    """Whom an update is for: one campaign or one open letter of an organisation, and
    optionally only the supporters of some countries (ISO codes)."""

    organisation_id: int
    campaign_id: int | None = None
    open_letter_id: int | None = None
    countries: frozenset[str] = frozenset()


def agreeing(target: Audience) -> Iterator[ConsentRecord]:
    """For each supporter the update reaches, once, their latest grant (its wording and
    date, the supporter loaded with email, name and country), read in chunks."""
    purpose = ConsentPurpose.CAMPAIGN_UPDATES if target.campaign_id is not None else ConsentPurpose.OPEN_LETTER_UPDATES
    withdrawn = _withdrawn_at(organisation_id=target.organisation_id)
    for grant in agreed_to_updates(
        purpose=purpose, campaign_id=target.campaign_id, open_letter_id=target.open_letter_id
    ):
        if target.countries and grant.supporter.country not in target.countries:
            continue
        unsubscribed = withdrawn.get(grant.supporter_id)
        if unsubscribed is not None and unsubscribed >= grant.created_at:
            continue
        yield grant


def audience(target: Audience) -> Iterator[Supporter]:
    """The supporters the update reaches, each once."""
    return (grant.supporter for grant in agreeing(target))


def audience_size(target: Audience) -> int:
    return sum(1 for _ in audience(target))


def withdrew_since(
    *,
    supporter_id: int,
    organisation_id: int,
    since: datetime,
    campaign_id: int | None = None,
    open_letter_id: int | None = None,
) -> bool:
    """Whether the supporter stopped this update's kind since ``since`` (the update was
    queued): unsubscribed from the organisation's updates, or withdrew their consent for
    the campaign's (or open letter's) updates. Asked at send time, so an email queued
    before they unsubscribed does not go."""
    scope = Q(purpose=ConsentPurpose.ORGANISATION_UPDATES, organisation_id=organisation_id)
    if campaign_id is not None:
        scope |= Q(purpose=ConsentPurpose.CAMPAIGN_UPDATES, campaign_id=campaign_id)
    if open_letter_id is not None:
        scope |= Q(purpose=ConsentPurpose.OPEN_LETTER_UPDATES, open_letter_id=open_letter_id)
    return ConsentRecord.objects.filter(scope, supporter_id=supporter_id, granted=False, created_at__gte=since).exists()
