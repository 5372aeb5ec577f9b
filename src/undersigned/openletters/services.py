"""Writes for open letters: versions, endorsing, confirming, withdrawing, moderating,
importing from campaign files (and the read that exports them).

Every write here owns its transaction, writes an ``ActionLog`` row (ids and enum values
only) and defers email to a task with ``transaction.on_commit``. Counters on the letter
and per country move with ``F()`` updates by the difference between an endorsement's
state before and after the change (``_State``), so they stay right whatever the order
of events (confirm, hide, withdraw, restore, sign again).
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, timedelta
from functools import partial
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from undersigned.campaigns.campaign_files import Author, CampaignFileError, OpenLetterFile, check_counts
from undersigned.campaigns.models import Campaign, Recipient, RecipientGroup, RecipientGroupMember
from undersigned.campaigns.services import fill_recipient, match_recipient, recipient_data
from undersigned.core.emails import mailbox_identity
from undersigned.core.models import ActionLog, log_action
from undersigned.core.statements import Insert, column, run_chain
from undersigned.core.task_rows import enqueued, unsaved_task_row
from undersigned.delivery.models import PrintJob, PrintJobKind, PrintJobStatus
from undersigned.organisations.models import Organisation
from undersigned.supporters import services as supporter_services
from undersigned.supporters.models import ConsentPurpose

from . import links, queries, tasks
from .models import (
    Endorsement,
    EndorsementCountry,
    EndorsementStatus,
    EndorserKind,
    OpenLetter,
    OpenLetterStatus,
    OpenLetterVersion,
)
from .text import text_hash

UPDATES_WORDING = (
    "Yes, {organisation} may email me updates about the open letter “{letter}”. "
    "I can unsubscribe at any time with the link in every update."
)


def updates_wording(letter: OpenLetter) -> str:
    return UPDATES_WORDING.format(organisation=letter.organisation.name, letter=letter.title)


# --- Versions ------------------------------------------------------------------------


def record_version(*, letter: OpenLetter, actor: Any = None) -> OpenLetterVersion | None:
    """Give a published letter a new version if its title or text changed; return the new one.

    Drafts have no versions: the first is written when the letter is published. Each
    version is kept unchanged, so every endorsement can say which text it endorsed.
    """
    if letter.status == OpenLetterStatus.DRAFT:
        return None
    digest = text_hash(letter.title, letter.text)
    with transaction.atomic():
        locked = OpenLetter.objects.select_for_update(of=("self",)).select_related("current_version").get(pk=letter.pk)
        if locked.current_version is not None and locked.current_version.text_hash == digest:
            return None
        number = (locked.current_version.number if locked.current_version else 0) + 1
        version = OpenLetterVersion.objects.create(
            letter=locked, number=number, title=letter.title, text=letter.text, text_hash=digest
        )
        fields: dict[str, Any] = {"current_version": version, "updated_at": timezone.now()}
        if locked.published_at is None:
            fields["published_at"] = timezone.now()
            letter.published_at = fields["published_at"]
        OpenLetter.objects.filter(pk=letter.pk).update(**fields)
        letter.current_version = version
        log_action("open_letter.version", letter, actor=actor, version=number)
    return version


def set_pow_required(*, letter: OpenLetter, required: bool, actor: Any) -> None:
    with transaction.atomic():
        OpenLetter.objects.filter(pk=letter.pk).update(pow_required=required, updated_at=timezone.now())
        letter.pow_required = required
        log_action("open_letter.pow_required", letter, actor=actor, required=required)


# --- Endorsing -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class EndorsementInput:
    kind: str = EndorserKind.PERSON
    name: str
    role: str = ""
    organisation: str = ""
    country: str = ""
    statement: str = ""
    website: str = ""
    signatory: str = ""
    email: str
    show_publicly: bool = True
    wants_updates: bool = False


class LetterClosed(Exception):
    """The letter is not open for endorsement (draft, closed or past its deadline)."""


class ConfirmationInvalid(Exception):
    """The link or code does not match an endorsement waiting for confirmation."""


class ConfirmationExpired(Exception):
    """The link or code was right, but the time to confirm has run out."""


_DETAILS = ("kind", "name", "role", "organisation", "country", "statement", "website", "signatory", "show_publicly")


def endorse(*, letter: OpenLetter, data: EndorsementInput, ip_hash: str = "") -> Endorsement:
    """Record an endorsement waiting for email confirmation and queue the email.

    One endorsement per normalised email: signing again updates the same row. While it
    waits, the details are replaced; once confirmed, the new details wait in
    ``pending_update`` until the new email is confirmed, so typing someone else's
    address can never change what is shown under their name. A repeated submission
    reuses the nonce that is still valid, so every email sent keeps working.
    """
    version = letter.current_version
    if not letter.is_open or version is None:
        raise LetterClosed
    email_normalised = mailbox_identity(data.email)
    if connection.vendor == "postgresql":
        new = _create_in_one_statement(
            letter=letter, version=version, data=data, email_normalised=email_normalised, ip_hash=ip_hash
        )
        if new is not None:
            return new
    write = partial(_endorse, letter=letter, version=version, data=data, email_normalised=email_normalised)
    try:
        return write(ip_hash=ip_hash)
    except IntegrityError:
        # Two first submissions with one address at once: the other one made the row.
        return write(ip_hash=ip_hash)


def _endorse(
    *, letter: OpenLetter, version: OpenLetterVersion, data: EndorsementInput, email_normalised: str, ip_hash: str
) -> Endorsement:
    now = timezone.now()
    details = {key: value for key, value in asdict(data).items() if key in _DETAILS}
    with transaction.atomic():
        endorsement = (
            Endorsement.objects.select_for_update().filter(letter=letter, email_normalised=email_normalised).first()
        )
        if endorsement is None:
            endorsement = Endorsement(
                letter=letter,
                email_normalised=email_normalised,
                withdraw_secret=secrets.token_hex(16),
                status=EndorsementStatus.PENDING,
            )
        still_valid = bool(
            endorsement.confirm_nonce and endorsement.confirm_expires_at and endorsement.confirm_expires_at > now
        )
        if not still_valid:
            endorsement.confirm_nonce = secrets.token_hex(16)
        endorsement.confirm_expires_at = now + links.confirm_window()
        endorsement.email = data.email
        endorsement.confirmation_sent_at = None  # this submission's email is not sent yet
        endorsement.wants_updates = data.wants_updates
        endorsement.ip_hash = ip_hash
        if endorsement.status == EndorsementStatus.PENDING:
            for key, value in details.items():
                setattr(endorsement, key, value)
            endorsement.version = version
            endorsement.text_hash = version.text_hash
            endorsement.search_text = _search_text(endorsement)
        else:
            endorsement.pending_update = {**details, "version": version.pk}
        created = endorsement.pk is None
        with transaction.atomic():  # a savepoint, so a lost race leaves the outer one usable
            endorsement.save()
        log_action("endorsement.submitted", endorsement, letter=letter.pk, created=created)
        transaction.on_commit(partial(_enqueue_confirmation, endorsement.pk))
    return endorsement


def _create_in_one_statement(
    *, letter: OpenLetter, version: OpenLetterVersion, data: EndorsementInput, email_normalised: str, ip_hash: str
) -> Endorsement | None:
    """PostgreSQL, the common case of a first endorsement with this address: the row, its
    audit row and the task that emails the confirmation in one statement (no BEGIN,
    SELECT … FOR UPDATE, savepoint or COMMIT; the task committed with the row it is
    about, ``core/task_rows.py``). The rows are what ``_endorse`` and the task backend
    write for a new address (values from the fields' own ``pre_save``/``get_db_prep_save``;
    nothing listens to these models' save signals). Returns None, having written nothing,
    when the address has an endorsement already: ``_endorse`` handles signing again.
    """
    now = timezone.now()
    endorsement = Endorsement(
        letter=letter,
        email=data.email,
        email_normalised=email_normalised,
        withdraw_secret=secrets.token_hex(16),
        status=EndorsementStatus.PENDING,
        confirm_nonce=secrets.token_hex(16),
        confirm_expires_at=now + links.confirm_window(),
        wants_updates=data.wants_updates,
        ip_hash=ip_hash,
        version=version,
        text_hash=version.text_hash,
        **{key: value for key, value in asdict(data).items() if key in _DETAILS},
    )
    endorsement.search_text = _search_text(endorsement)
    log = ActionLog(
        action="endorsement.submitted",
        object_type=Endorsement._meta.label_lower,
        data={"letter": letter.pk, "created": True},
    )
    q = connection.ops.quote_name
    parts = [
        Insert("e", endorsement, on_conflict=f"({q('letter_id')}, {q('email_normalised')}) DO NOTHING"),
        Insert("a", log, fill="object_id", fill_sql=f"CAST({column('e')} AS text)", source="e"),
    ]
    task = unsaved_task_row(tasks.send_confirmation)
    if task is not None:
        # The task's one argument is the new row's id: {"args": [id], "kwargs": {}}.
        args_kwargs = f"jsonb_build_object('args', jsonb_build_array({column('e')}), 'kwargs', '{{}}'::jsonb)"
        parts.append(Insert("t", task, fill="args_kwargs", fill_sql=args_kwargs, source="e", with_pk=True))
    row = run_chain(parts, f"SELECT {column('e')} FROM e")  # noqa: S608 (our own names)
    if not row:
        return None
    endorsement.pk = int(row[0])
    endorsement._state.adding, endorsement._state.db = False, connection.alias
    if task is None:
        transaction.on_commit(partial(_enqueue_confirmation, endorsement.pk))
    else:
        transaction.on_commit(partial(enqueued, task, endorsement.pk))
    return endorsement


def _enqueue_confirmation(endorsement_id: int) -> None:
    from . import tasks

    tasks.send_confirmation.enqueue(endorsement_id)


def _search_text(endorsement: Endorsement) -> str:
    parts = [endorsement.name, endorsement.organisation, endorsement.signatory]
    return " ".join(part for part in parts if part).casefold()[:420]


@dataclass(frozen=True)
class _State:
    counted: bool
    listed: bool
    withdrawn: bool
    country: str


def _state(endorsement: Endorsement) -> _State:
    confirmed = endorsement.status == EndorsementStatus.CONFIRMED
    return _State(
        counted=confirmed and not endorsement.hidden,
        listed=confirmed and not endorsement.hidden and endorsement.show_publicly,
        withdrawn=endorsement.status == EndorsementStatus.WITHDRAWN,
        country=endorsement.country,
    )


def _move_counters(letter_id: int, before: _State, after: _State) -> None:
    verified = int(after.counted) - int(before.counted)
    withdrawn = int(after.withdrawn) - int(before.withdrawn)
    if verified or withdrawn or before.listed or after.listed:
        # updated_at moves too: the letter page's cached part is keyed on it.
        OpenLetter.objects.filter(pk=letter_id).update(
            verified_count=F("verified_count") + verified,
            withdrawn_count=F("withdrawn_count") + withdrawn,
            updated_at=timezone.now(),
        )
    for country, sign, state in ((before.country, -1, before), (after.country, 1, after)):
        if not (state.counted or state.listed):
            continue
        row, _ = EndorsementCountry.objects.get_or_create(letter_id=letter_id, country=country)
        EndorsementCountry.objects.filter(pk=row.pk).update(
            count=F("count") + sign * int(state.counted), listed=F("listed") + sign * int(state.listed)
        )


def _save_state(endorsement: Endorsement, before: _State) -> None:
    after = _state(endorsement)
    endorsement.is_listed = after.listed
    endorsement.save()
    _move_counters(endorsement.letter_id, before, after)


def confirm(*, endorsement_id: int, nonce: str, ip_hash: str = "") -> Endorsement:
    """Confirm an endorsement (by its link's POST or its code). Idempotent once confirmed.

    Raises ``ConfirmationInvalid`` for an unknown endorsement or an old nonce, and
    ``ConfirmationExpired`` when the time to confirm has run out.
    """
    now = timezone.now()
    with transaction.atomic():
        endorsement = (
            # of=self: lock the endorsement only, not the letter's row it joins.
            Endorsement.objects.select_for_update(of=("self",))
            .select_related("letter__organisation")
            .filter(pk=endorsement_id)
            .first()
        )
        if endorsement is None:
            raise ConfirmationInvalid
        if not endorsement.confirm_nonce or not secrets.compare_digest(endorsement.confirm_nonce, nonce):
            if endorsement.status == EndorsementStatus.CONFIRMED and not endorsement.confirm_nonce:
                return endorsement  # confirmed already: a second click changes nothing
            raise ConfirmationInvalid
        if endorsement.confirm_expires_at is None or endorsement.confirm_expires_at <= now:
            raise ConfirmationExpired
        before = _state(endorsement)
        if endorsement.pending_update:
            update = dict(endorsement.pending_update)
            version_id = update.pop("version", None)
            for key, value in update.items():
                if key in _DETAILS:
                    setattr(endorsement, key, value)
            version = OpenLetterVersion.objects.filter(pk=version_id, letter_id=endorsement.letter_id).first()
            if version is not None:
                endorsement.version = version
                endorsement.text_hash = version.text_hash
        endorsement.search_text = _search_text(endorsement)
        endorsement.status = EndorsementStatus.CONFIRMED
        endorsement.confirmed_at = endorsement.confirmed_at or now
        endorsement.withdrawn_at = None
        endorsement.confirm_nonce = ""
        endorsement.confirm_expires_at = None
        endorsement.pending_update = None
        _save_state(endorsement, before)
        log_action("endorsement.confirmed", endorsement, letter=endorsement.letter_id)
        if endorsement.wants_updates:
            _record_updates_consent(endorsement, ip_hash=ip_hash)
    return endorsement


def record_confirmed(*, letter: OpenLetter, data: EndorsementInput, actor: Any = None) -> Endorsement:
    """An endorsement confirmed by other means (the demo; signatures an organiser collected on
    paper and checked). Counted and listed at once; an address already used is left alone."""
    version = letter.current_version
    if version is None:
        raise LetterClosed
    email_normalised = mailbox_identity(data.email)
    with transaction.atomic():
        existing = Endorsement.objects.filter(letter=letter, email_normalised=email_normalised).first()
        if existing is not None:
            return existing
        endorsement = Endorsement(
            letter=letter,
            email=data.email,
            email_normalised=email_normalised,
            withdraw_secret=secrets.token_hex(16),
            version=version,
            text_hash=version.text_hash,
            confirmed_at=timezone.now(),
            **{key: value for key, value in asdict(data).items() if key in _DETAILS},
        )
        endorsement.search_text = _search_text(endorsement)
        before = _state(endorsement)
        endorsement.status = EndorsementStatus.CONFIRMED
        _save_state(endorsement, before)
        log_action("endorsement.recorded", endorsement, actor=actor, letter=letter.pk)
    return endorsement


def _record_updates_consent(endorsement: Endorsement, *, ip_hash: str) -> None:
    """The updates opt-in counts only once the address is confirmed to be the person's."""
    letter = endorsement.letter
    supporter = supporter_services.get_or_create_supporter(
        email=endorsement.email, name=endorsement.signatory or endorsement.name, country=endorsement.country
    )
    if supporter_services.has_consent(
        supporter=supporter, purpose=ConsentPurpose.OPEN_LETTER_UPDATES, campaign=None, open_letter=letter
    ):
        return
    supporter_services.record_consent(
        supporter=supporter,
        purpose=ConsentPurpose.OPEN_LETTER_UPDATES,
        granted=True,
        wording=updates_wording(letter),
        source="open letter endorsement form",
        open_letter=letter,
        ip_hash=ip_hash,
    )


def confirm_by_code(*, letter: OpenLetter, email: str, code: str, ip_hash: str = "") -> Endorsement:
    """Confirm with the short code from the email, typed on the site with the address."""
    endorsement = Endorsement.objects.filter(letter=letter, email_normalised=mailbox_identity(email)).first()
    if endorsement is None or not endorsement.confirm_nonce:
        if endorsement is not None and endorsement.status == EndorsementStatus.CONFIRMED:
            return endorsement
        raise ConfirmationInvalid
    expected = links.confirm_code(endorsement.pk, endorsement.confirm_nonce)
    if not secrets.compare_digest(expected, links.clean_code(code)):
        raise ConfirmationInvalid
    return confirm(endorsement_id=endorsement.pk, nonce=endorsement.confirm_nonce, ip_hash=ip_hash)


def withdraw(*, endorsement_id: int, secret: str) -> Endorsement | None:
    """Withdraw an endorsement (from the signed link in its email). Idempotent.

    A confirmed one becomes ``withdrawn``: no longer named or counted, counted among the
    withdrawn; one never confirmed is simply deleted. Returns None if there is no such
    endorsement (or the secret is wrong).
    """
    with transaction.atomic():
        endorsement = Endorsement.objects.select_for_update().filter(pk=endorsement_id).first()
        if endorsement is None or not secrets.compare_digest(endorsement.withdraw_secret, secret):
            return None
        if endorsement.status == EndorsementStatus.WITHDRAWN:
            return endorsement
        if endorsement.status == EndorsementStatus.PENDING:
            log_action("endorsement.withdrawn", endorsement, letter=endorsement.letter_id, confirmed=False)
            endorsement.delete()
            return None
        before = _state(endorsement)
        endorsement.status = EndorsementStatus.WITHDRAWN
        endorsement.withdrawn_at = timezone.now()
        endorsement.featured = False
        endorsement.confirm_nonce = ""
        endorsement.pending_update = None
        _save_state(endorsement, before)
        log_action("endorsement.withdrawn", endorsement, letter=endorsement.letter_id, confirmed=True)
    return endorsement


# --- Moderation ------------------------------------------------------------------------


class HideReason:
    FAKE = "fake"
    ABUSIVE = "abusive"
    DUPLICATE = "duplicate"
    OTHER = "other"
    CHOICES = (
        (FAKE, "Fake or impersonating name"),
        (ABUSIVE, "Abusive or offensive"),
        (DUPLICATE, "Duplicate of another endorsement"),
        (OTHER, "Other reason"),
    )


def hide(*, endorsement: Endorsement, reason: str, actor: Any) -> None:
    """Hide an endorsement from the page, the count and hand-in packs, with a reason."""
    with transaction.atomic():
        locked = Endorsement.objects.select_for_update().get(pk=endorsement.pk)
        if locked.hidden:
            return
        before = _state(locked)
        locked.hidden = True
        locked.hidden_reason = reason
        locked.featured = False
        _save_state(locked, before)
        log_action("endorsement.hidden", locked, actor=actor, letter=locked.letter_id, reason=reason)


def restore(*, endorsement: Endorsement, reason: str, actor: Any) -> None:
    with transaction.atomic():
        locked = Endorsement.objects.select_for_update().get(pk=endorsement.pk)
        if not locked.hidden:
            return
        before = _state(locked)
        locked.hidden = False
        locked.hidden_reason = ""
        _save_state(locked, before)
        log_action("endorsement.restored", locked, actor=actor, letter=locked.letter_id, reason=reason)


def set_featured(*, endorsement: Endorsement, featured: bool, actor: Any) -> bool:
    """Feature (or stop featuring) a publicly named endorsement; False if it is not named."""
    with transaction.atomic():
        locked = Endorsement.objects.select_for_update().get(pk=endorsement.pk)
        if featured and not locked.is_listed:
            return False
        Endorsement.objects.filter(pk=locked.pk).update(featured=featured, updated_at=timezone.now())
        OpenLetter.objects.filter(pk=locked.letter_id).update(updated_at=timezone.now())
        log_action("endorsement.featured" if featured else "endorsement.unfeatured", locked, actor=actor)
    return True


# --- Housekeeping ----------------------------------------------------------------------


# A confirmation email not sent this long after its submission lost its task (a worker
# killed mid-send, the mail server down): housekeeping queues it again.
RESEND_AFTER = timedelta(minutes=5)


def resend_unsent(*, now: Any = None) -> int:
    """Queue again the confirmation emails whose task was lost; return how many."""
    now = now or timezone.now()
    waiting = Endorsement.objects.filter(
        status__in=[EndorsementStatus.PENDING, EndorsementStatus.CONFIRMED, EndorsementStatus.WITHDRAWN],
        confirm_expires_at__gt=now,
        confirmation_sent_at__isnull=True,
        updated_at__lt=now - RESEND_AFTER,
    ).exclude(confirm_nonce="")
    ids = list(waiting.values_list("id", flat=True)[:500])
    for endorsement_id in ids:
        _enqueue_confirmation(endorsement_id)
    return len(ids)


def remove_expired(*, now: Any = None) -> int:
    """Delete endorsements never confirmed in time; drop updates nobody confirmed. Returns deletions."""
    now = now or timezone.now()
    expired = Endorsement.objects.filter(status=EndorsementStatus.PENDING, confirm_expires_at__lte=now)
    deleted, _ = expired.delete()
    Endorsement.objects.filter(
        status__in=[EndorsementStatus.CONFIRMED, EndorsementStatus.WITHDRAWN], confirm_expires_at__lte=now
    ).update(pending_update=None, confirm_nonce="", confirm_expires_at=None)
    return deleted


# --- Campaign files ----------------------------------------------------------------------


def import_open_letter(
    *, organisation: Organisation, data: OpenLetterFile, actor: Any = None
) -> tuple[OpenLetter, bool]:
    """Create or update the open letter ``data.slug`` from a parsed campaign file.

    Recipients are matched like a campaign's (``campaigns.services.match_recipient``).
    With ``recipient_group`` they become that group's members and the letter is
    addressed to the group. A changed text of a published letter makes a new version.
    Counters are never touched.
    """
    check_counts(data)  # parse() checks them too; a value built in code must keep them as well
    with transaction.atomic():
        letter = OpenLetter.objects.select_for_update().filter(slug=data.slug).first()
        if letter is not None and letter.organisation_id != organisation.pk:
            raise CampaignFileError(
                [f'open_letter.slug "{data.slug}" is already used by another organisation; choose another slug']
            )
        campaign = None
        if data.campaign:
            campaign = Campaign.objects.filter(slug=data.campaign, organisation=organisation).first()
            if campaign is None:
                message = f'open_letter.campaign "{data.campaign}" is not a campaign of {organisation.name}'
                raise CampaignFileError([message + "; import that campaign first"])
        created = letter is None
        if letter is None:
            letter = OpenLetter(organisation=organisation, slug=data.slug)
        letter.title = data.title
        letter.summary = data.summary
        letter.text = data.text
        letter.status = data.status
        letter.published_at = data.published or letter.published_at
        letter.deadline = data.deadline
        letter.tags = list(data.tags)
        letter.language = data.language
        letter.authors = [{"name": a.name, "role": a.role, "place": a.place} for a in data.authors]
        letter.letter_campaign = campaign
        if created:
            letter.save()
        else:
            letter.save(
                update_fields=[
                    "title", "summary", "text", "status", "published_at", "deadline", "tags", "language",
                    "authors", "letter_campaign", "updated_at",
                ]
            )  # fmt: skip
        recipients = _import_addressees(letter=letter, organisation=organisation, data=data)
        log_action(
            "open_letter.created" if created else "open_letter.updated",
            letter,
            actor=actor,
            source="campaign_file",
            recipients=[r.pk for r in recipients],
        )
        record_version(letter=letter, actor=actor)
    return letter, created


def _import_addressees(*, letter: OpenLetter, organisation: Organisation, data: OpenLetterFile) -> list[Recipient]:
    group = None
    if data.recipient_group:
        group = _group_named(letter=letter, organisation=organisation, name=data.recipient_group)
        if group.decision_date != data.decision_date:
            group.decision_date = data.decision_date
            group.save(update_fields=["decision_date", "updated_at"])
        current = set(RecipientGroupMember.objects.filter(group=group).values_list("recipient_id", flat=True))
    else:
        current = set(letter.recipients.values_list("id", flat=True))
    used: set[int] = set()
    chosen: list[Recipient] = []
    for entry in data.recipients:
        recipient = match_recipient(organisation=organisation, entry=entry, on_campaign=current, used=used)
        if recipient is None:
            recipient = Recipient(organisation=organisation)
        fill_recipient(recipient=recipient, entry=entry)
        recipient.save()
        used.add(recipient.pk)
        chosen.append(recipient)
    if group is not None:
        RecipientGroupMember.objects.filter(group=group).exclude(recipient_id__in=used).delete()
        for recipient in chosen:
            RecipientGroupMember.objects.get_or_create(group=group, recipient=recipient)
        letter.recipients.clear()
    else:
        letter.recipients.set(chosen)
    if letter.recipient_group_id != (group.pk if group else None):
        OpenLetter.objects.filter(pk=letter.pk).update(recipient_group=group)
        letter.recipient_group = group
    return chosen


def _group_named(*, letter: OpenLetter, organisation: Organisation, name: str) -> RecipientGroup:
    """The organisation's recipient group of that name: the letter's own, if it has that name.

    Nothing stops an organisation from having two groups of one name (made in the admin,
    say); the letter keeps the one it is addressed to, a new letter takes the oldest.
    """
    groups = RecipientGroup.objects.filter(organisation=organisation, name=name)
    own = groups.filter(pk=letter.recipient_group_id).first() if letter.recipient_group_id else None
    return own or groups.order_by("pk").first() or RecipientGroup.objects.create(organisation=organisation, name=name)


def export_open_letter(letter: OpenLetter) -> OpenLetterFile:
    """Read an open letter and its addressees into a campaign file (``kind = "open_letter"``).

    The reverse of ``import_open_letter``: importing the result, here or into another
    organisation, gives a letter with the same values. Addressees are listed in the order
    the letter's page shows them (by name): the database keeps no other order for them.
    """
    group = letter.recipient_group
    # Authors are free JSON in the admin; an entry that is not a table is left out rather
    # than written as something import would read differently.
    authors = [author for author in letter.authors or [] if isinstance(author, dict)]
    return OpenLetterFile(
        slug=letter.slug,
        title=letter.title,
        text=letter.text,
        summary=letter.summary,
        status=str(letter.status),
        published=letter.published_at.astimezone(UTC) if letter.published_at else None,
        deadline=letter.deadline.astimezone(UTC) if letter.deadline else None,
        tags=tuple(str(tag) for tag in letter.tags or []),
        language=letter.language,
        recipient_group=group.name if group else "",
        decision_date=group.decision_date if group else None,
        campaign=letter.letter_campaign.slug if letter.letter_campaign else "",
        authors=tuple(
            Author(
                name=str(author.get("name") or ""),
                role=str(author.get("role") or ""),
                place=str(author.get("place") or ""),
            )
            for author in authors
        ),
        recipients=tuple(recipient_data(recipient) for recipient in queries.addressees(letter)),
    )


# --- Hand-in packs -----------------------------------------------------------------------


def start_hand_in(*, letter: OpenLetter, recipient: Recipient | None, actor: Any) -> PrintJob:
    """Start building a hand-in pack PDF (for one addressee, or all); a worker builds it.

    Idempotent for a double click: while the same pack waits or builds, that job is
    returned. A stalled one (its worker died) is marked failed and a new one starts.
    """
    from django.contrib.auth import get_user_model

    from undersigned.delivery import bulk_print
    from undersigned.delivery.tasks import build_print_job

    from . import handin

    requested_by = actor if isinstance(actor, get_user_model()) and actor.is_authenticated else None
    with transaction.atomic():
        OpenLetter.objects.select_for_update().filter(pk=letter.pk).values_list("pk", flat=True).first()
        active = (
            PrintJob.objects.filter(
                kind=PrintJobKind.HAND_IN, open_letter=letter, recipient=recipient, status__in=bulk_print.ACTIVE
            )
            .order_by("-id")
            .first()
        )
        if active is not None:
            if not bulk_print.is_stalled(active):
                return active
            now = timezone.now()
            PrintJob.objects.filter(pk=active.pk, updated_at=active.updated_at).update(
                status=PrintJobStatus.FAILED,
                error="Stopped making progress (its worker may have stopped), so it was started again.",
                finished_at=now,
                updated_at=now,
            )
        _, named = handin.counts(handin.Pack(letter, recipient))
        job = PrintJob.objects.create(
            kind=PrintJobKind.HAND_IN,
            open_letter=letter,
            recipient=recipient,
            requested_by=requested_by,
            total=named,
        )
        log_action("hand_in.started", job, actor=actor, letter=letter.pk, recipient=recipient.pk if recipient else None)
        transaction.on_commit(partial(build_print_job.enqueue, job.pk))
    return job


def record_hand_in_download(*, letter: OpenLetter, recipient: Recipient | None, file_format: str, actor: Any) -> None:
    """Hand-in packs name people: who downloads one is kept."""
    log_action(
        "hand_in.downloaded", letter, actor=actor, format=file_format, recipient=recipient.pk if recipient else None
    )
