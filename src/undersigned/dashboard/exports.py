"""CSV exports for organisers: a campaign's letters (with their evidence), its deliveries
and the supporters who agreed to hear more; an open letter's endorsements and the
endorsers who agreed to hear more.

Each file streams as it is read (``core.csv_export``; the reads come ``EXPORT_CHUNK``
rows at a time), so memory stays flat for a million rows. Cells are formula-safe, the
file is UTF-8 with a byte order mark, its name the slug and the day. Only members who
run the organisation's campaigns get one (anyone else: 404); every download is kept in
the audit log.

What is left out, on purpose: a letter's text, subject and the supporter's name and
address are the supporter's own (PRODUCT.md: personal stories private by default) and
no export carries them; nor does any carry an endorser's email address, which the
dashboard never shows. The supporters' lists name only people who agreed, in the
wording given, to hear from the organisation.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone, translation
from django.views.decorators.http import require_GET

from undersigned.campaigns.models import Campaign
from undersigned.core.csv_export import Cell, csv_filename, csv_lines, streamed_csv
from undersigned.delivery import queries as delivery_queries
from undersigned.delivery import services as delivery_services
from undersigned.delivery.models import Evidence
from undersigned.openletters import queries as openletter_queries
from undersigned.openletters.models import OpenLetter
from undersigned.openletters.services import hand_in
from undersigned.supporters import updates

from .permissions import dashboard_user_required, managed_campaign_or_404, managed_open_letter_or_404

Row = tuple[Cell, ...]


def _when(moment: datetime.datetime | None) -> str:
    """A moment in the site's time zone, to the second (ISO 8601); empty when there is none."""
    return timezone.localtime(moment).isoformat(timespec="seconds") if moment else ""


def _earliest(*moments: datetime.datetime | None) -> datetime.datetime | None:
    present = [moment for moment in moments if moment is not None]
    return min(present) if present else None


# --- A campaign's letters, deliveries and supporters -------------------------------------

LETTER_COLUMNS = (
    "letter",
    "written_at",
    "sender_country",
    "own_words_percent",
    "recipients",
    "channels",
    "evidence_reached",
    "first_sent_at",
    "self_reported_at",
    "verified_copy_at",
    "platform_delivered_at",
)


def letter_rows(campaign: Campaign) -> Iterator[Row]:
    """One row per letter: where it went, how, and how far up the evidence ladder."""
    evidence_names = _evidence_names()
    for letter in delivery_queries.letters_for_export(campaign):
        deliveries = letter.deliveries
        best = max((d.evidence for d in deliveries), default=Evidence.NONE)
        delivered = [d.sent_at for d in deliveries if d.evidence >= Evidence.PLATFORM_DELIVERED]
        yield (
            letter.id,
            _when(letter.created_at),
            letter.sender_country,
            letter.uniqueness,
            len({d.recipient_id for d in deliveries}),
            " ".join(sorted({d.channel for d in deliveries})),
            evidence_names[best],
            _when(letter.sent_at),
            _when(_earliest(*(d.reported_at for d in deliveries))),
            _when(_earliest(*(d.verified_at for d in deliveries))),
            _when(_earliest(*delivered)),
        )


DELIVERY_COLUMNS = (
    "delivery",
    "letter",
    "recipient",
    "recipient_role",
    "recipient_organisation",
    "recipient_country",
    "channel",
    "status",
    "evidence",
    "attempts",
    "created_at",
    "sent_at",
    "self_reported_at",
    "verified_copy_at",
    "bounced_at",
)


def _evidence_names() -> dict[int, str]:
    # Exports are data that scripts read: column keys and values stay in stable English,
    # whatever language the organiser reads the dashboard in.
    with translation.override("en"):
        return {evidence.value: str(evidence.label) for evidence in Evidence}


def delivery_rows(campaign: Campaign) -> Iterator[Row]:
    evidence_names = _evidence_names()
    for d in delivery_queries.deliveries_for_export(campaign):
        yield (
            d.pk,
            d.letter_id,
            d.sent_recipient.name,
            d.sent_recipient.role,
            d.sent_recipient.organisation_name,
            d.sent_recipient.country,
            d.channel,
            d.status,
            evidence_names[d.evidence],
            d.attempts,
            _when(d.created_at),
            _when(d.sent_at),
            _when(d.reported_at),
            _when(d.verified_at),
            _when(d.bounced_at),
        )


SUPPORTER_COLUMNS = ("email", "name", "country", "agreed_at", "wording_agreed_to", "where")


def supporter_rows(target: updates.Audience) -> Iterator[Row]:
    """Who agrees now to hear more (and has not unsubscribed from the organisation's
    updates since), with the exact wording they agreed to and when."""
    for record in updates.agreeing(target):
        supporter = record.supporter
        yield (
            supporter.email,
            supporter.name,
            supporter.country,
            _when(record.created_at),
            record.wording,
            record.source,
        )


def _campaign_csv(
    request: HttpRequest, slug: str, what: str, header: tuple[str, ...], rows: Callable[[Campaign], Iterator[Row]]
) -> StreamingHttpResponse:
    campaign = managed_campaign_or_404(request.user, slug)
    delivery_services.record_campaign_export(campaign=campaign, what=what, actor=request.user)
    filename = csv_filename(campaign.slug, what, timezone.localdate())
    return streamed_csv(csv_lines(header, rows(campaign)), filename)


@require_GET
@dashboard_user_required
def campaign_letters(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    return _campaign_csv(request, slug, "letters", LETTER_COLUMNS, letter_rows)


@require_GET
@dashboard_user_required
def campaign_deliveries(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    return _campaign_csv(request, slug, "deliveries", DELIVERY_COLUMNS, delivery_rows)


@require_GET
@dashboard_user_required
def campaign_supporters(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    def rows(campaign: Campaign) -> Iterator[Row]:
        return supporter_rows(updates.Audience(organisation_id=campaign.organisation_id, campaign_id=campaign.pk))

    return _campaign_csv(request, slug, "supporters-agreed-to-updates", SUPPORTER_COLUMNS, rows)


# --- An open letter's endorsements and endorsers ------------------------------------------

ENDORSEMENT_COLUMNS = (
    "endorsement",
    "status",
    "named_publicly",
    "hidden",
    "hidden_reason",
    "featured",
    "kind",
    "name",
    "role",
    "organisation",
    "signed_for_by",
    "country",
    "website",
    "public_statement",
    "text_version",
    "text_fingerprint",
    "text_language",
    "submitted_at",
    "confirmed_at",
    "withdrawn_at",
)


def endorsement_rows(letter: OpenLetter) -> Iterator[Row]:
    """Every endorsement, any status; a statement only where the public page shows it."""
    versions = {v.pk: v for v in openletter_queries.versions(letter)}
    for e in openletter_queries.endorsements_for_export(letter):
        version = versions.get(e.version_id)
        yield (
            e.pk,
            e.status,
            "yes" if e.is_listed else "no",
            "yes" if e.hidden else "no",
            e.hidden_reason,
            "yes" if e.featured else "no",
            e.kind,
            e.name,
            e.role,
            e.organisation,
            e.signatory,
            e.country,
            e.website,
            e.statement if e.is_listed else "",
            version.number if version else None,
            version.text_hash if version else "",
            version.language if version else "",
            _when(e.created_at),
            _when(e.confirmed_at),
            _when(e.withdrawn_at),
        )


def _letter_csv(
    request: HttpRequest, slug: str, what: str, header: tuple[str, ...], rows: Callable[[OpenLetter], Iterator[Row]]
) -> StreamingHttpResponse:
    letter = managed_open_letter_or_404(request.user, slug)
    hand_in.record_open_letter_export(letter=letter, what=what, actor=request.user)
    filename = csv_filename(letter.slug, what, timezone.localdate())
    return streamed_csv(csv_lines(header, rows(letter)), filename)


@require_GET
@dashboard_user_required
def open_letter_endorsements(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    return _letter_csv(request, slug, "endorsements", ENDORSEMENT_COLUMNS, endorsement_rows)


@require_GET
@dashboard_user_required
def open_letter_supporters(request: HttpRequest, slug: str) -> StreamingHttpResponse:
    def rows(letter: OpenLetter) -> Iterator[Row]:
        return supporter_rows(updates.Audience(organisation_id=letter.organisation_id, open_letter_id=letter.pk))

    return _letter_csv(request, slug, "endorsers-agreed-to-updates", SUPPORTER_COLUMNS, rows)
