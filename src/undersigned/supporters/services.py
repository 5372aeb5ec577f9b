"""Writes for supporters and their consent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from undersigned.campaigns.models import Campaign
from undersigned.core.languages import active_language
from undersigned.core.models import ActionLog, log_action
from undersigned.organisations.models import Organisation

from .models import ERASED_EMAIL_SUFFIX, ConsentPurpose, ConsentRecord, Supporter, erased

if TYPE_CHECKING:
    # Only for annotations: open letters are a higher app than supporters.
    from undersigned.openletters.models import OpenLetter


def supporter_email(email: str) -> str:
    """The address as a supporter row keeps it: trimmed and lower-cased, otherwise as typed.

    Not ``core.emails.mailbox_identity``: that one folds provider aliases to tell people
    apart, while this is the address letters and updates are sent to.
    """
    return email.strip().lower()


def get_or_create_supporter(*, email: str, name: str, town: str = "", country: str = "") -> Supporter:
    """The supporter for this address. Existing details are not overwritten by whoever types it."""
    supporter, _ = Supporter.objects.get_or_create(
        email=supporter_email(email),
        defaults={"name": name, "town": town, "country": country},
    )
    return supporter


def supporter_id_for(*, email: str, name: str, town: str = "", country: str = "") -> int:
    """The id of the supporter for this address, created if new, in one statement.

    The same rule as ``get_or_create_supporter`` (existing details are never overwritten:
    the conflict only rewrites the address with itself) without its SELECT and
    savepoint; for the letter form, where every submission needs only the id.
    """
    supporter = Supporter(email=supporter_email(email), name=name, town=town, country=country)
    Supporter.objects.bulk_create([supporter], update_conflicts=True, unique_fields=["email"], update_fields=["email"])
    return int(supporter.pk)  # RETURNING gives the id of the row inserted or kept


CAMPAIGN_UPDATES_WORDING = gettext_noop(
    "Yes, %(organisation)s may email me updates about “%(campaign)s”. "
    "I can unsubscribe at any time with the link in every update."
)


def campaign_updates_wording(campaign: Campaign) -> str:
    """The opt-in as shown, in the active language (recorded as shown: ``record_consent``)."""
    return gettext(CAMPAIGN_UPDATES_WORDING) % {"organisation": campaign.organisation.name, "campaign": campaign.title}


def record_consent(
    *,
    supporter: Supporter,
    purpose: ConsentPurpose,
    granted: bool,
    wording: str,
    source: str,
    campaign: Campaign | None = None,
    open_letter: OpenLetter | None = None,
    organisation: Organisation | None = None,
    ip_hash: str = "",
    language: str | None = None,
) -> ConsentRecord:
    """Append one consent row with the exact wording shown. Never updates an earlier row.

    ``language`` is the one ``wording`` was shown in: by default the active language, the
    one the page spoke (the wording functions build it in that language too).
    """
    with transaction.atomic():
        record = ConsentRecord.objects.create(
            supporter=supporter,
            purpose=purpose,
            granted=granted,
            wording=wording,
            campaign=campaign,
            open_letter=open_letter,
            organisation=organisation,
            source=source,
            ip_hash=ip_hash,
            language=active_language() if language is None else language,
        )
        log_action("consent.recorded", record, purpose=str(purpose), granted=granted)
    return record


def has_consent(
    *, supporter: Supporter, purpose: ConsentPurpose, campaign: Campaign | None, open_letter: OpenLetter | None = None
) -> bool:
    latest = (
        ConsentRecord.objects.filter(supporter=supporter, purpose=purpose, campaign=campaign, open_letter=open_letter)
        .order_by("-created_at", "-id")
        .first()
    )
    return bool(latest and latest.granted)


def erased_email(supporter_id: int) -> str:
    """The address an anonymised supporter row keeps: unique, naming nobody, never delivered
    (``.invalid`` is reserved, RFC 2606)."""
    return f"erased-{supporter_id}{ERASED_EMAIL_SUFFIX}"


def anonymise_supporters(*, supporter_ids: list[int]) -> int:
    """Blank the personal fields of these supporters; return how many were anonymised.

    The rows stay: their letters (counted in the results) hang on them, and so do their
    consent records, which are append-only and stay as they were. The address becomes
    ``erased_email`` (the column is unique); nothing names the person any more. The
    audit row keeps only the count.
    """
    if not supporter_ids:
        return 0
    with transaction.atomic():
        rows = list(Supporter.objects.select_for_update().filter(pk__in=supporter_ids).exclude(erased()).order_by("pk"))
        now = timezone.now()
        for supporter in rows:
            supporter.email = erased_email(supporter.pk)
            supporter.name = supporter.town = supporter.country = supporter.postal_address = ""
            supporter.updated_at = now
        Supporter.objects.bulk_update(rows, ["email", "name", "town", "country", "postal_address", "updated_at"])
        if rows:
            # No row of a person to name: the audit row's object is the kind of row.
            ActionLog.objects.create(
                action="supporters.anonymised",
                object_type=Supporter._meta.label_lower,
                object_id="",
                data={"supporters": len(rows)},
            )
    return len(rows)
