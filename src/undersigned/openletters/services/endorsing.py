"""Endorsing an open letter: signing, confirming by link or code, withdrawing, and the
housekeeping of endorsements nobody confirmed.

Every write owns its transaction, writes an ``ActionLog`` row (ids and enum values
only) and defers email to a task with ``transaction.on_commit``.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from undersigned.core.emails import mailbox_identity
from undersigned.core.languages import active_language
from undersigned.core.models import ActionLog, log_action
from undersigned.core.statements import Insert, column, run_chain
from undersigned.core.task_rows import enqueued, unsaved_task_row
from undersigned.openletters import links, queries, tasks
from undersigned.openletters.models import (
    Endorsement,
    EndorsementStatus,
    EndorserKind,
    OpenLetter,
    OpenLetterVersion,
)
from undersigned.openletters.text import search_text
from undersigned.supporters import services as supporter_services
from undersigned.supporters.models import ConsentPurpose, Supporter

from .counters import NONE, move_tallies, save_with_counters, state_of

UPDATES_WORDING = gettext_noop(
    "Yes, %(organisation)s may email me updates about the open letter “%(letter)s”. "
    "I can unsubscribe at any time with the link in every update."
)


def updates_wording(letter: OpenLetter) -> str:
    """The opt-in as the endorsement form shows it, in the active language."""
    return gettext(UPDATES_WORDING) % {"organisation": letter.organisation.name, "letter": letter.title}


# Shown on the withdrawal page and recorded as the withdrawal of the updates opt-in.
UPDATES_WITHDRAWN_WORDING = gettext_noop("You will no longer receive updates from %(organisation)s about “%(letter)s”.")


def updates_withdrawn_wording(letter: OpenLetter) -> str:
    return gettext(UPDATES_WITHDRAWN_WORDING) % {"organisation": letter.organisation.name, "letter": letter.title}


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
    # The text the person read: its language ("" for the main one) and its version's
    # number (None: whichever is current).
    text_language: str = ""
    text_version: int | None = None


class LetterClosed(Exception):
    """The letter is not open for endorsement (draft, closed or past its deadline)."""


class TextChanged(Exception):
    """The text the person read is no longer the current one in its language."""

    def __init__(self, current: OpenLetterVersion) -> None:
        super().__init__(current.number)
        self.current = current


def version_endorsed(letter: OpenLetter, data: EndorsementInput) -> OpenLetterVersion:
    """The version an endorsement with ``data`` endorses: the current version of the text in
    the language the person read (the main language's when that text has none).

    Raises ``LetterClosed`` for a letter never published and ``TextChanged`` when the
    version they read is not the current one in its language: nobody endorses a text
    they were not shown.
    """
    texts = queries.published_texts(letter)
    if not texts:
        raise LetterClosed
    chosen = next((t for t in texts if data.text_language and t.language == data.text_language), texts[0])
    if data.text_version is not None and data.text_version != chosen.version.number:
        raise TextChanged(chosen.version)
    return chosen.version


class ConfirmationInvalid(Exception):
    """The link or code does not match an endorsement waiting for confirmation."""


class ConfirmationExpired(Exception):
    """The link or code was right, but the time to confirm has run out."""


class ConfirmationSuperseded(ConfirmationInvalid):
    """A genuine link of an older submission: a newer one waits for its own email's link."""


_DETAILS = ("kind", "name", "role", "organisation", "country", "statement", "website", "signatory", "show_publicly")
# What a confirmation confirms: the details, the updates opt-in and the version endorsed.
PROPOSED = (*_DETAILS, "wants_updates", "version")


def proposed(endorsement: Endorsement) -> dict[str, Any]:
    """What confirming ``endorsement``'s current link would make it hold (``PROPOSED``).

    A pending endorsement holds its submission itself; a confirmed one keeps what was
    confirmed and waits for the rest in ``pending_update`` (rows written before the
    opt-in went there keep their confirmed opt-in).
    """
    current = {key: getattr(endorsement, key) for key in (*_DETAILS, "wants_updates")}
    current["version"] = endorsement.version_id
    if endorsement.status != EndorsementStatus.PENDING and endorsement.pending_update:
        current.update({key: value for key, value in endorsement.pending_update.items() if key in PROPOSED})
    return current


def waiting_changes(endorsement: Endorsement) -> list[tuple[str, Any, Any]]:
    """``(field, now, after confirming)`` for each part of a confirmed (or withdrawn)
    endorsement that its current link would change, in ``PROPOSED`` order; empty for a
    first endorsement or a withdrawn one (neither is shown before it is confirmed)."""
    if endorsement.status != EndorsementStatus.CONFIRMED:
        return []
    after = proposed(endorsement)
    now = {key: getattr(endorsement, key) for key in (*_DETAILS, "wants_updates")}
    now["version"] = endorsement.version_id
    return [(key, now[key], after[key]) for key in PROPOSED if now[key] != after[key]]


def endorse(*, letter: OpenLetter, data: EndorsementInput, ip_hash: str = "") -> Endorsement:
    """Record an endorsement waiting for email confirmation and queue the email.

    One endorsement per normalised email: signing again updates the same row. While it
    waits, the details are replaced; once confirmed, the new details wait in
    ``pending_update`` until the new email is confirmed, so typing someone else's
    address can never change what is shown under their name. A repeated identical
    submission reuses the nonce that is still valid, so every email sent for it keeps
    working; a different one gets a new nonce, so an older email's link or code never
    confirms details it did not show (its page says a newer change waits).

    The endorsement is of the text the person read (``version_endorsed``): its language
    and version are recorded with it.
    """
    if not letter.is_open:
        raise LetterClosed
    version = version_endorsed(letter, data)
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
        submitted = {**details, "wants_updates": data.wants_updates, "version": version.pk}
        still_valid = bool(
            endorsement.confirm_nonce and endorsement.confirm_expires_at and endorsement.confirm_expires_at > now
        )
        # The same submission again (a double click, a second email asked for) keeps the
        # nonce, so every email sent for it keeps working; anything new gets a nonce of
        # its own, so an older email's link can never confirm what it did not show.
        if not still_valid or endorsement.pk is None or proposed(endorsement) != submitted:
            endorsement.confirm_nonce = secrets.token_hex(16)
        endorsement.confirm_expires_at = now + links.confirm_window()
        endorsement.email = data.email
        endorsement.confirmation_sent_at = None  # this submission's email is not sent yet
        endorsement.ip_hash = ip_hash
        endorsement.language = active_language()
        if endorsement.status == EndorsementStatus.PENDING:
            for key, value in details.items():
                setattr(endorsement, key, value)
            endorsement.wants_updates = data.wants_updates
            endorsement.version = version
            endorsement.text_hash = version.text_hash
            endorsement.search_text = _search_text(endorsement)
        else:
            # Confirmed (or withdrawn): what is shown and agreed stays until the new email is confirmed.
            endorsement.pending_update = {**details, "wants_updates": data.wants_updates, "version": version.pk}
        created = endorsement.pk is None
        with transaction.atomic():  # a savepoint, so a lost race leaves the outer one usable
            endorsement.save()
        if created:
            move_tallies([(letter.pk, NONE, state_of(endorsement))])
        log_action("endorsement.submitted", endorsement, letter=letter.pk, created=created)
        transaction.on_commit(partial(_enqueue_confirmation, endorsement.pk), robust=True)
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
        language=active_language(),
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
    with transaction.atomic():  # the new row and the results' tally of the waiting together
        row = run_chain(parts, f"SELECT {column('e')} FROM e")  # noqa: S608 (our own names)
        if row:
            move_tallies([(letter.pk, NONE, state_of(endorsement))])
    if not row:
        return None
    endorsement.pk = int(row[0])
    endorsement._state.adding, endorsement._state.db = False, connection.alias
    if task is None:
        transaction.on_commit(partial(_enqueue_confirmation, endorsement.pk), robust=True)
    else:
        transaction.on_commit(partial(enqueued, task, endorsement.pk), robust=True)
    return endorsement


def _enqueue_confirmation(endorsement_id: int) -> None:
    # Called on commit with robust=True: the endorsement is saved, and an email whose task
    # is lost is queued again by housekeeping (resend_unsent), so a failure here is logged
    # instead of answering the signer with an error page.
    tasks.send_confirmation.enqueue(endorsement_id)


def _search_text(endorsement: Endorsement) -> str:
    return search_text(endorsement.name, endorsement.organisation, endorsement.signatory)


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
            if endorsement.confirm_nonce:
                raise ConfirmationSuperseded  # a newer submission waits for its own link
            raise ConfirmationInvalid
        if endorsement.confirm_expires_at is None or endorsement.confirm_expires_at <= now:
            raise ConfirmationExpired
        before = state_of(endorsement)
        wanted_updates = endorsement.wants_updates and endorsement.status == EndorsementStatus.CONFIRMED
        if endorsement.pending_update:
            update = dict(endorsement.pending_update)
            version_id = update.pop("version", None)
            for key, value in update.items():
                if key in (*_DETAILS, "wants_updates"):
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
        save_with_counters(endorsement, before)
        log_action("endorsement.confirmed", endorsement, letter=endorsement.letter_id)
        if endorsement.wants_updates:
            _record_updates_consent(endorsement, ip_hash=ip_hash)
        elif wanted_updates:
            # The confirmed change unticked the opt-in: no more updates, as the page said.
            _withdraw_updates_consent(endorsement, source="open letter endorsement changed")
    return endorsement


def record_confirmed(*, letter: OpenLetter, data: EndorsementInput, actor: Any = None) -> Endorsement:
    """An endorsement confirmed by other means (the demo; signatures an organiser collected on
    paper and checked). Counted and listed at once; an address already used is left alone."""
    version = version_endorsed(letter, data)
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
        before = NONE  # a new row
        endorsement.status = EndorsementStatus.CONFIRMED
        save_with_counters(endorsement, before)
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
    # Recorded when the address is confirmed, maybe from a page in another language: the
    # wording is the one the form showed, in the language the endorsement was made in.
    language = endorsement.language or settings.LANGUAGE_CODE
    with translation.override(language):
        wording = updates_wording(letter)
    supporter_services.record_consent(
        supporter=supporter,
        purpose=ConsentPurpose.OPEN_LETTER_UPDATES,
        granted=True,
        wording=wording,
        source="open letter endorsement form",
        open_letter=letter,
        ip_hash=ip_hash,
        language=language,
    )


def endorsement_for_code(*, letter: OpenLetter, email: str, code: str) -> Endorsement:
    """The endorsement whose current code was typed with its address (nothing written).

    Raises ``ConfirmationInvalid`` when the code is not the current one: an older
    email's code was derived from a nonce a newer submission replaced, so it never
    confirms the newer details. A confirmed endorsement with nothing waiting is returned
    as it is (typing the code twice changes nothing).
    """
    endorsement = Endorsement.objects.filter(letter=letter, email_normalised=mailbox_identity(email)).first()
    if endorsement is None or not endorsement.confirm_nonce:
        if endorsement is not None and endorsement.status == EndorsementStatus.CONFIRMED:
            return endorsement
        raise ConfirmationInvalid
    expected = links.confirm_code(endorsement.pk, endorsement.confirm_nonce)
    if not secrets.compare_digest(expected, links.clean_code(code)):
        raise ConfirmationInvalid
    return endorsement


def confirm_by_code(*, letter: OpenLetter, email: str, code: str, ip_hash: str = "") -> Endorsement:
    """Confirm with the short code from the email, typed on the site with the address."""
    endorsement = endorsement_for_code(letter=letter, email=email, code=code)
    if not endorsement.confirm_nonce:
        return endorsement
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
            move_tallies([(endorsement.letter_id, state_of(endorsement), NONE)])
            endorsement.delete()
            return None
        before = state_of(endorsement)
        endorsement.status = EndorsementStatus.WITHDRAWN
        endorsement.withdrawn_at = timezone.now()
        endorsement.featured = False
        endorsement.confirm_nonce = ""
        endorsement.pending_update = None
        save_with_counters(endorsement, before)
        log_action("endorsement.withdrawn", endorsement, letter=endorsement.letter_id, confirmed=True)
        _withdraw_updates_consent(endorsement)
    return endorsement


def _withdraw_updates_consent(endorsement: Endorsement, *, source: str = "open letter withdrawal") -> None:
    """A withdrawn endorser hears no more about the letter: their opt-in, if any, is
    withdrawn by a consent row of its own (rows are append-only)."""
    letter = endorsement.letter
    supporter = Supporter.objects.filter(email=supporter_services.supporter_email(endorsement.email)).first()
    if supporter is None or not supporter_services.has_consent(
        supporter=supporter, purpose=ConsentPurpose.OPEN_LETTER_UPDATES, campaign=None, open_letter=letter
    ):
        return
    supporter_services.record_consent(
        supporter=supporter,
        purpose=ConsentPurpose.OPEN_LETTER_UPDATES,
        granted=False,
        wording=updates_withdrawn_wording(letter),
        source=source,
        open_letter=letter,
    )


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


EXPIRE_CHUNK = 1000  # expired endorsements deleted per transaction


def remove_expired(*, now: Any = None) -> int:
    """Delete endorsements never confirmed in time; drop updates nobody confirmed. Returns deletions."""
    now = now or timezone.now()
    expired = Endorsement.objects.filter(status=EndorsementStatus.PENDING, confirm_expires_at__lte=now)
    deleted = 0
    while True:
        # A chunk at a time, each row locked before it is counted out of the results'
        # tallies and deleted in the same transaction (a confirmation that wins the race
        # takes the row out of ``expired``).
        with transaction.atomic():
            chunk = list(
                expired.select_for_update(skip_locked=True)
                .order_by("pk")
                .only("pk", "letter_id", "status", "hidden", "show_publicly", "country", "confirmed_at")[:EXPIRE_CHUNK]
            )
            if not chunk:
                break
            move_tallies([(e.letter_id, state_of(e), NONE) for e in chunk])
            deleted += Endorsement.objects.filter(pk__in=[e.pk for e in chunk]).delete()[0]
    Endorsement.objects.filter(
        status__in=[EndorsementStatus.CONFIRMED, EndorsementStatus.WITHDRAWN], confirm_expires_at__lte=now
    ).update(pending_update=None, confirm_nonce="", confirm_expires_at=None)
    return deleted
