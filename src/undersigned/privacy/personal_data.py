"""Everything kept about one email address, and its erasure.

Each kind of personal data is one small function pair registered in ``KINDS``: ``find``
returns the rows of that address as plain dicts for the owner's page and JSON export,
``erase`` removes them through the services that keep the counters right. A new kind
is one more ``Kind`` in the list (``update_sends``: the organisations' updates emailed to
the address, each a ``Delivery`` of an ``openletters.Update``).

Which rows are "of this address": endorsements, comments and known addresses by
``core.emails.mailbox_identity`` (the same mailbox's differently-cased or plus-addressed
spellings), as they are stored; supporters (and their letters and consents) by the
address as a supporter row keeps it (``supporters.services.supporter_email``), and by
the spellings those endorsements and comments were made with (an endorser's updates
consent hangs on a supporter row of the address as typed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from undersigned.core.emails import mailbox_identity, mailbox_spellings
from undersigned.core.models import ActionLog
from undersigned.core.sanitising import comment_to_html
from undersigned.delivery import replies
from undersigned.delivery.models import Delivery
from undersigned.delivery.services import delete_letters
from undersigned.discussion.models import Comment, KnownEmail
from undersigned.letters.models import Letter
from undersigned.openletters.models import Endorsement, EndorsementStatus
from undersigned.openletters.services.counters import NONE, move_tallies, save_with_counters, state_of
from undersigned.supporters.models import ERASED_EMAIL_SUFFIX, ConsentRecord, Supporter
from undersigned.supporters.services import supporter_email

Row = dict[str, Any]


@dataclass(frozen=True)
class Address:
    """The two keys one email address is stored under."""

    identity: str  # as endorsements and comments keep it
    emails: frozenset[str]  # as supporter rows keep it: the address and its spellings in use

    @classmethod
    def of(cls, email: str) -> Address:
        identity = mailbox_identity(email)
        spellings = {supporter_email(email)}
        prefix, domains = mailbox_spellings(identity)
        ends = Q()
        for domain in domains:
            ends |= Q(email__endswith=f"@{domain}")
        candidates = Supporter.objects.filter(ends, email__startswith=prefix).values_list("email", flat=True)
        spellings.update(e for e in candidates if mailbox_identity(e) == identity)
        spellings.update(
            supporter_email(e)
            for e in Endorsement.objects.filter(email_normalised=identity).values_list("email", flat=True)
        )
        spellings.update(
            supporter_email(e) for e in Comment.objects.filter(email_key=identity).values_list("email", flat=True)
        )
        return cls(identity=identity, emails=frozenset(spellings))


@dataclass(frozen=True)
class Kind:
    key: str  # the JSON export's key
    title: Callable[[], str]  # the page's heading, translated when called
    find: Callable[[Address], list[Row]]
    erase: Callable[[Address], int]


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


# --- supporter --------------------------------------------------------------------------


def _supporter_rows(address: Address) -> list[Row]:
    return [
        {
            "email": s.email,
            "name": s.name,
            "town": s.town,
            "country": s.country,
            "postal_address": s.postal_address,
            "created_at": _when(s.created_at),
        }
        for s in Supporter.objects.filter(email__in=address.emails)
    ]


def _erase_supporter(address: Address) -> int:
    # Letters and consent records go first (their own kinds); what still hangs on the
    # row (nothing the platform knows today) goes with it.
    return Supporter.objects.filter(email__in=address.emails).delete()[1].get("supporters.Supporter", 0)


# --- letters and their deliveries -------------------------------------------------------


def _letter_rows(address: Address) -> list[Row]:
    letters = (
        Letter.objects.filter(supporter__email__in=address.emails)
        .select_related("campaign")
        .prefetch_related("versions")
        .order_by("id")
    )
    deliveries: dict[int, list[Row]] = {}
    for d in Delivery.objects.filter(letter__in=letters).select_related("recipient").order_by("id"):
        deliveries.setdefault(d.letter_id or 0, []).append(
            {
                "recipient": d.sent_recipient.name,
                "channel": d.channel,
                "status": d.status,
                "evidence": str(d.get_evidence_display()),
                "reported_at": _when(d.reported_at),
                "sent_at": _when(d.sent_at),
                "verified_at": _when(d.verified_at),
                "copy_text": d.copy_text,
            }
        )
    return [
        {
            "campaign": letter.campaign.title,
            "created_at": _when(letter.created_at),
            "sender_name": letter.sender_name,
            "sender_town": letter.sender_town,
            "sender_country": letter.sender_country,
            "sender_address": letter.sender_address,
            "subject": letter.subject,
            "body": letter.body,
            # The letter written again in other languages, for the recipients who read them.
            "versions": [{"language": v.language, "subject": v.subject, "body": v.body} for v in letter.versions.all()],
            "sent_at": _when(letter.sent_at),
            "deliveries": deliveries.get(letter.pk, []),
        }
        for letter in letters
    ]


def _erase_letters(address: Address) -> int:
    # Deleted, not blanked: ``delete_letters`` moves the campaign's results tallies down
    # with them. The public counter keeps counting a letter that was sent (it was).
    ids = list(Letter.objects.filter(supporter__email__in=address.emails).values_list("id", flat=True))
    return delete_letters(letter_ids=ids) if ids else 0


# --- replies to letters -----------------------------------------------------------------


def _reply_rows(address: Address) -> list[Row]:
    letters = list(Letter.objects.filter(supporter__email__in=address.emails).values_list("id", flat=True))
    return [
        {
            "letter": r.letter.subject,
            "recipient": r.recipient.name,
            "source": r.get_source_display(),
            "text": r.text,
            # The file itself stays in private storage; its type and size say what it is.
            "file": replies.reply_file_download_name(r) if r.file else "",
            "file_type": r.file_type,
            "file_bytes": _file_size(r.file),
            "may_quote": r.may_quote,
            "approved_at": _when(r.approved_at),
            "received_at": _when(r.received_at),
        }
        for r in replies.supporter_replies(letters)
    ]


def _file_size(name: str) -> int | None:
    if not name:
        return None
    try:
        return int(default_storage.size(name))
    except OSError:
        return None


def _erase_replies(address: Address) -> int:
    ids = list(Letter.objects.filter(supporter__email__in=address.emails).values_list("id", flat=True))
    return replies.erase_replies(letter_ids=ids) if ids else 0


# --- endorsements -----------------------------------------------------------------------


def _endorsement_rows(address: Address) -> list[Row]:
    rows = (
        Endorsement.objects.filter(email_normalised=address.identity).select_related("letter", "version").order_by("id")
    )
    return [
        {
            "open_letter": e.letter.title,
            # The text endorsed: its language, its version and the start of its fingerprint.
            "text_language": e.version.language,
            "text_version": e.version.number,
            "text_hash": e.text_hash,
            "status": e.status,
            "kind": e.kind,
            "name": e.name,
            "role": e.role,
            "organisation": e.organisation,
            "country": e.country,
            "statement": e.statement,
            "website": e.website,
            "signatory": e.signatory,
            "email": e.email,
            "show_publicly": e.show_publicly,
            "wants_updates": e.wants_updates,
            "created_at": _when(e.created_at),
            "confirmed_at": _when(e.confirmed_at),
            "withdrawn_at": _when(e.withdrawn_at),
        }
        for e in rows
    ]


# Blanked on an erased endorsement; the row stays (withdrawn) so the letter's
# ``withdrawn_count`` and its tallies keep counting it, without saying whose it was.
_ENDORSER_FIELDS = {
    "name": "",
    "role": "",
    "organisation": "",
    "statement": "",
    "website": "",
    "signatory": "",
    "search_text": "",
    "ip_hash": "",
    "hidden_reason": "",
    "pending_update": None,
    "confirm_nonce": "",
    "wants_updates": False,
    "show_publicly": False,
    "featured": False,
}


def _erase_endorsements(address: Address) -> int:
    erased = 0
    for pk in Endorsement.objects.filter(email_normalised=address.identity).values_list("pk", flat=True):
        with transaction.atomic():
            e = Endorsement.objects.select_for_update().get(pk=pk)
            before = state_of(e)
            if e.status == EndorsementStatus.PENDING:
                # Never confirmed: nothing counts it but the pending tally; gone, as a withdrawal does.
                move_tallies([(e.letter_id, before, NONE)])
                e.delete()
            else:
                if e.status != EndorsementStatus.WITHDRAWN:
                    e.status = EndorsementStatus.WITHDRAWN
                    e.withdrawn_at = timezone.now()
                for field, value in _ENDORSER_FIELDS.items():
                    setattr(e, field, value)
                # The unique (letter, email) key needs a value: one that names nobody.
                e.email = f"erased-{e.pk}{ERASED_EMAIL_SUFFIX}"
                e.email_normalised = e.email
                save_with_counters(e, before)
            erased += 1
    return erased


# --- comments ---------------------------------------------------------------------------


def _comment_rows(address: Address) -> list[Row]:
    rows = Comment.objects.filter(email_key=address.identity).select_related("discussion").order_by("id")
    return [
        {
            "author_name": c.author_name,
            "email": c.email,
            "body": c.body,
            "status": c.status,
            "notify_replies": c.notify_replies,
            "created_at": _when(c.created_at),
            "published_at": _when(c.published_at),
        }
        for c in rows
    ]


def _erase_comments(address: Address) -> int:
    # The comment stays in its thread (replies to it keep their place and the
    # discussion's count stays right), without its author's name, address or words.
    removed = _("This comment was removed at its author's request.")
    return Comment.objects.filter(email_key=address.identity).update(
        author_name="",
        email="",
        email_key="",
        body=removed,
        body_html=comment_to_html(removed),
        ip_hash="",
        notify_replies=False,
        user=None,
    )


def _known_rows(address: Address) -> list[Row]:
    return [
        {"email": k.email, "via": k.via, "created_at": _when(k.created_at)}
        for k in KnownEmail.objects.filter(email=address.identity)
    ]


def _erase_known(address: Address) -> int:
    return KnownEmail.objects.filter(email=address.identity).delete()[0]


# --- consent records --------------------------------------------------------------------


def _consent_rows(address: Address) -> list[Row]:
    rows = ConsentRecord.objects.filter(supporter__email__in=address.emails).order_by("created_at", "id")
    return [
        {
            "purpose": c.purpose,
            "granted": c.granted,
            "wording": c.wording,
            "language": c.language,  # the wording's, as it was shown
            "source": c.source,
            "created_at": _when(c.created_at),
        }
        for c in rows
    ]


def _erase_consents(address: Address) -> int:
    # The audit row of the erasure (``erase``) keeps how many there were, naming nobody.
    return ConsentRecord.objects.filter(supporter__email__in=address.emails).delete()[0]


# --- updates sent to the address (openletters.Update, one Delivery each) -----------------


def _update_sends(address: Address) -> QuerySet[Delivery]:
    return Delivery.objects.filter(update__isnull=False, supporter__email__in=address.emails)


def _update_send_rows(address: Address) -> list[Row]:
    rows = _update_sends(address).select_related("update__organisation", "update__campaign", "update__open_letter")
    result = []
    for d in rows.order_by("id"):
        update = d.update
        if update is None:  # the filter above: every row has one
            continue
        about = update.campaign or update.open_letter
        result.append(
            {
                "organisation": update.organisation.name,
                "about": about.title if about is not None else "",
                "subject": update.subject,
                "status": d.status,
                "sent_at": _when(d.sent_at),
                "bounced_at": _when(d.bounced_at),
            }
        )
    return result


def _erase_update_sends(address: Address) -> int:
    # The update itself (the organisation's text) stays; its counts stay as they were.
    return _update_sends(address).delete()[1].get("delivery.Delivery", 0)


KINDS: list[Kind] = [
    Kind("supporter", lambda: _("Your details"), _supporter_rows, _erase_supporter),
    Kind("letters", lambda: _("Letters and their deliveries"), _letter_rows, _erase_letters),
    Kind("replies", lambda: _("Replies to your letters"), _reply_rows, _erase_replies),
    Kind("endorsements", lambda: _("Endorsements of open letters"), _endorsement_rows, _erase_endorsements),
    Kind("comments", lambda: _("Comments"), _comment_rows, _erase_comments),
    Kind("known_addresses", lambda: _("Confirmed address for comments"), _known_rows, _erase_known),
    Kind("consents", lambda: _("What you agreed to"), _consent_rows, _erase_consents),
    Kind("update_sends", lambda: _("Updates sent to you"), _update_send_rows, _erase_update_sends),
]
# Erased in this order: the supporter row last, after what hangs on it.
_ERASE_ORDER = [
    "replies",
    "letters",
    "update_sends",
    "endorsements",
    "comments",
    "known_addresses",
    "consents",
    "supporter",
]


def collect(email: str) -> dict[str, list[Row]]:
    """Everything kept about ``email``, by kind (the JSON export)."""
    address = Address.of(email)
    return {kind.key: kind.find(address) for kind in KINDS}


def erase(email: str) -> ActionLog:
    """Erase everything kept about ``email``; returns the audit row, which holds only counts."""
    address = Address.of(email)
    by_key = {kind.key: kind for kind in KINDS}
    order = _ERASE_ORDER + [key for key in by_key if key not in _ERASE_ORDER]
    counts = {key: by_key[key].erase(address) for key in order}
    # The audit row's object is the log itself: there is no row of the person left to name.
    return ActionLog.objects.create(action="personal_data.erased", object_type="", object_id="", data=counts)
