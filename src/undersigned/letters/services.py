"""Writes for letters: saving what a supporter wrote."""

from __future__ import annotations

import copy
import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F

from undersigned.campaigns import queries as campaign_queries
from undersigned.campaigns.languages import CampaignText, campaign_texts, text_in
from undersigned.campaigns.models import Campaign
from undersigned.core.languages import active_language
from undersigned.core.models import ActionLog, log_action
from undersigned.core.statements import Insert, column, run_chain
from undersigned.supporters.models import Supporter
from undersigned.supporters.services import supporter_email, supporter_id_for

from . import tallies, tasks
from .models import ComposerOpenedDay, Letter, LetterText
from .uniqueness import own_words_percent

# The most versions a letter keeps besides its main text: far more languages than a
# campaign's recipients read, and what ``Letter.version_languages`` has room to list.
MAX_VERSIONS = 18


@dataclass(frozen=True)
class LetterInput:
    name: str
    email: str
    town: str
    country: str
    postal_address: str
    subject: str
    body: str
    # The member a routed letter goes to (``campaigns/routing.py``); None: every recipient.
    addressed_to_id: int | None = None
    # The language of the campaign's text the letter starts from (``campaigns/languages.py``);
    # "" is the campaign's main language.
    text_language: str = ""
    # The letter written once more per language, for the recipients who read it
    # (``LetterText``); empty: one text for everyone (an edit that leaves them out
    # removes the versions the letter had).
    versions: tuple[VersionInput, ...] = ()


@dataclass(frozen=True)
class VersionInput:
    language: str  # one of the campaign's text languages, not the letter's own
    subject: str
    body: str


class LetterAlreadySent(Exception):
    """The letter has deliveries: its text is what they received and can no longer change."""


def save_letter(
    *,
    campaign: Campaign,
    submission_key: uuid.UUID,
    data: LetterInput,
    ip_hash: str = "",
    texts: Sequence[CampaignText] = (),
) -> Letter:
    """Create the letter for this submission key, or update it if the same form comes back.

    A double click, a reload or the back button resubmits the same key, so the supporter
    never ends up with two letters. A new key is the common case and costs one
    transaction of three INSERTs (supporter upsert, letter, audit row); a key that is
    already taken fails the letter's INSERT on its unique constraint, rolls that
    transaction back, and goes the way of an update. The campaign's letter tallies
    (``letters/tallies.py``) move in the same transaction.
    """
    # Own words are counted against the template of the letter's language. ``texts`` are
    # the campaign's texts the caller holds already (the composer's kept copy); without
    # them a letter in another language than the main one reads its translation.
    template_body = campaign.template.body
    if (data.text_language and data.text_language != campaign.language) or data.versions:
        if not texts:
            translations = campaign_queries.translations_of(campaign)
            texts = campaign_texts(campaign=campaign, template=campaign.template, translations=translations)
        if data.text_language and data.text_language != campaign.language:
            template_body = text_in(texts, data.text_language).body
    uniqueness = own_words_percent(data.body, template_body)
    versions = _versions(data, texts, main=data.text_language or campaign.language)
    fields = {
        "sender_name": data.name,
        "sender_town": data.town,
        "sender_country": data.country,
        "sender_address": data.postal_address,
        "subject": data.subject,
        "body": data.body,
        "uniqueness": uniqueness,
        "addressed_to_id": data.addressed_to_id,
        "text_language": data.text_language,
        "version_languages": " ".join(version.language for version in versions),
        # The supporter's emails follow the language they wrote in (an edit keeps the latest).
        "language": active_language(),
    }
    supporter = {"email": data.email, "name": data.name, "town": data.town, "country": data.country}
    if connection.vendor == "postgresql":
        new = Letter(campaign=campaign, submission_key=submission_key, ip_hash=ip_hash, **fields)
        try:
            with transaction.atomic():
                _create_in_one_statement(new, Supporter(**{**supporter, "email": supporter_email(data.email)}))
                _write_versions(new, versions, replace=False)
                tallies.count_letters([new])
            _confirm_later(new)
            return new
        except IntegrityError:
            pass  # this key has a letter already: the same form came back, or two copies raced
        return _update(campaign, submission_key, fields, supporter, versions)
    try:
        with transaction.atomic():
            letter = Letter(
                campaign=campaign,
                supporter_id=supporter_id_for(**supporter),
                submission_key=submission_key,
                ip_hash=ip_hash,
                **fields,
            )
            letter.save(force_insert=True)
            _write_versions(letter, versions, replace=False)
            log_action("letter.created", letter, campaign=campaign.pk)
            tallies.count_letters([letter])
            _confirm_later(letter)
            return letter
    except IntegrityError:
        pass  # this key has a letter already: the same form came back, or two copies raced
    return _update(campaign, submission_key, fields, supporter, versions)


def _versions(data: LetterInput, texts: Sequence[CampaignText], *, main: str) -> list[LetterText]:
    """The letter's versions as rows to write, each scored against its language's template.

    Only languages the campaign has a text in, once each, and never the main text's own
    (a form edited by hand could send them): what a recipient reads stays unambiguous."""
    languages = {text.language for text in texts}
    rows: dict[str, LetterText] = {}
    for version in data.versions:
        if version.language not in languages or version.language == main or version.language in rows:
            continue
        template = text_in(texts, version.language).body
        rows[version.language] = LetterText(
            language=version.language,
            subject=version.subject,
            body=version.body,
            uniqueness=own_words_percent(version.body, template),
        )
    # As many as ``Letter.version_languages`` can list (codes of up to 10 characters and a space).
    return [rows[language] for language in sorted(rows)][:MAX_VERSIONS]


def _write_versions(letter: Letter, versions: list[LetterText], *, replace: bool) -> None:
    """The letter's versions, in the caller's transaction: those it had are replaced."""
    if replace:
        LetterText.objects.filter(letter=letter).delete()
    for version in versions:
        version.letter = letter
        version.pk = None
    if versions:
        LetterText.objects.bulk_create(versions)


def _confirm_later(letter: Letter) -> None:
    """The confirmation email (private link and a copy), once the new letter is committed.

    Only a new letter asks for it: an edit or a resubmitted form goes through ``_update``
    and never does; the task itself sends at most once per letter (``emails``). Robust:
    a lost task must not turn a saved letter into an error page.
    """
    transaction.on_commit(partial(tasks.send_confirmation.enqueue, letter.pk), robust=True)


def _update(
    campaign: Campaign,
    submission_key: uuid.UUID,
    fields: dict[str, Any],
    supporter: dict[str, str],
    versions: list[LetterText],
) -> Letter:
    with transaction.atomic():
        found = Letter.objects.select_for_update().filter(submission_key=submission_key, campaign=campaign).first()
        if found is None:
            # The key belongs to a letter in another campaign (the key is not guessable).
            return Letter.objects.get(submission_key=submission_key)
        if found.sent_at is not None:
            raise LetterAlreadySent
        before = copy.copy(found)
        for key, value in fields.items():
            setattr(found, key, value)
        found.supporter_id = supporter_id_for(**supporter)
        found.save()
        _write_versions(found, versions, replace=True)
        tallies.move_letter(before, found)
        log_action("letter.updated", found)
        return found


def _create_in_one_statement(letter: Letter, supporter: Supporter) -> None:
    """PostgreSQL: the supporter upsert, the letter and its audit row in one statement
    (``core.statements``). A taken submission key raises IntegrityError and nothing is
    written."""
    log = ActionLog(
        action="letter.created", object_type=Letter._meta.label_lower, data={"campaign": letter.campaign_id}
    )
    email = connection.ops.quote_name("email")
    row = run_chain(
        [
            # DO UPDATE (of nothing) rather than DO NOTHING, so a known address returns its id.
            Insert("s", supporter, on_conflict=f"({email}) DO UPDATE SET {email} = EXCLUDED.{email}"),
            Insert("l", letter, fill="supporter", fill_sql=column("s"), source="s"),
            Insert("a", log, fill="object_id", fill_sql=f"CAST({column('l')} AS text)", source="l"),
        ],
        f"SELECT {column('l')}, {column('s')} FROM l, s",  # noqa: S608 (our own names)
    )
    if row is None:  # pragma: no cover (the upsert always returns the supporter's row)
        raise IntegrityError("the letter's statement returned no row")
    letter.pk, letter.supporter_id = int(row[0]), int(row[1])
    letter._state.adding, letter._state.db = False, connection.alias


def set_sender_address(*, letter: Letter, postal_address: str) -> Letter:
    with transaction.atomic():
        letter.sender_address = postal_address
        letter.save(update_fields=["sender_address", "updated_at"])
        log_action("letter.sender_address_set", letter)
    return letter


def add_composer_openings(*, counts: dict[tuple[int, datetime.date], int]) -> None:
    """Add openings of composers to the kept counters, one row per campaign and day.

    An ``F()`` update, or the day's first row; two workers writing a day's first row at
    once meet at the unique constraint and the loser adds to the winner's row. Counts of
    a campaign deleted since are dropped. Counts are not acts of a person: no audit row
    is written for them.
    """
    for (campaign_id, day), count in counts.items():
        rows = ComposerOpenedDay.objects.filter(campaign_id=campaign_id, day=day)
        if rows.update(count=F("count") + count):
            continue
        if not Campaign.objects.filter(pk=campaign_id).exists():
            continue  # deleted since its composer was opened
        try:
            with transaction.atomic():
                ComposerOpenedDay.objects.create(campaign_id=campaign_id, day=day, count=count)
        except IntegrityError:
            rows.update(count=F("count") + count)
