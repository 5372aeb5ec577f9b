"""Writes for letters: saving what a supporter wrote."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction

from undersigned.campaigns.models import Campaign
from undersigned.core.models import ActionLog, insert_parts, log_action
from undersigned.supporters.models import Supporter
from undersigned.supporters.services import supporter_email, supporter_id_for

from .models import Letter
from .uniqueness import own_words_percent


@dataclass(frozen=True)
class LetterInput:
    name: str
    email: str
    town: str
    country: str
    postal_address: str
    subject: str
    body: str


class LetterAlreadySent(Exception):
    """The letter has deliveries: its text is what they received and can no longer change."""


def save_letter(*, campaign: Campaign, submission_key: uuid.UUID, data: LetterInput, ip_hash: str = "") -> Letter:
    """Create the letter for this submission key, or update it if the same form comes back.

    A double click, a reload or the back button resubmits the same key, so the supporter
    never ends up with two letters. A new key is the common case and costs one
    transaction of three INSERTs (supporter upsert, letter, audit row); a key that is
    already taken fails the letter's INSERT on its unique constraint, rolls that
    transaction back, and goes the way of an update.
    """
    template_body = campaign.template.body
    uniqueness = own_words_percent(data.body, template_body)
    fields = {
        "sender_name": data.name,
        "sender_town": data.town,
        "sender_country": data.country,
        "sender_address": data.postal_address,
        "subject": data.subject,
        "body": data.body,
        "uniqueness": uniqueness,
    }
    supporter = {"email": data.email, "name": data.name, "town": data.town, "country": data.country}
    if connection.vendor == "postgresql":
        new = Letter(campaign=campaign, submission_key=submission_key, ip_hash=ip_hash, **fields)
        try:
            _create_in_one_statement(new, Supporter(**{**supporter, "email": supporter_email(data.email)}))
            return new
        except IntegrityError:
            pass  # this key has a letter already: the same form came back, or two copies raced
        return _update(campaign, submission_key, fields, supporter)
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
            log_action("letter.created", letter, campaign=campaign.pk)
            return letter
    except IntegrityError:
        pass  # this key has a letter already: the same form came back, or two copies raced
    return _update(campaign, submission_key, fields, supporter)


def _update(campaign: Campaign, submission_key: uuid.UUID, fields: dict[str, Any], supporter: dict[str, str]) -> Letter:
    with transaction.atomic():
        found = Letter.objects.select_for_update().filter(submission_key=submission_key, campaign=campaign).first()
        if found is None:
            # The key belongs to a letter in another campaign (the key is not guessable).
            return Letter.objects.get(submission_key=submission_key)
        if found.sent_at is not None:
            raise LetterAlreadySent
        for key, value in fields.items():
            setattr(found, key, value)
        found.supporter_id = supporter_id_for(**supporter)
        found.save()
        log_action("letter.updated", found)
        return found


def _create_in_one_statement(letter: Letter, supporter: Supporter) -> None:
    """PostgreSQL: the supporter upsert, the letter and its audit row in one statement.

    A statement is atomic by itself, so a new letter needs no BEGIN and COMMIT around
    three INSERTs: one round trip instead of five. The rows are what the ORM path writes
    (values come from the fields' own ``pre_save``/``get_db_prep_save``); nothing
    listens to these models' save signals. A taken submission key raises IntegrityError
    and nothing is written.
    """
    log = ActionLog(
        action="letter.created", object_type=Letter._meta.label_lower, data={"campaign": letter.campaign_id}
    )
    q = connection.ops.quote_name
    s_table, s_columns, s_values = insert_parts(supporter, skip="")
    l_table, l_columns, l_values = insert_parts(letter, skip="supporter")
    a_table, a_columns, a_values = insert_parts(log, skip="object_id")
    pk, email = q("id"), q("email")

    def marks(values: list[Any]) -> str:
        return ", ".join(["%s"] * len(values))

    sql = (
        f"WITH s AS (INSERT INTO {s_table} ({', '.join(s_columns)}) VALUES ({marks(s_values)}) "  # noqa: S608 (names quoted by the backend)
        f"ON CONFLICT ({email}) DO UPDATE SET {email} = EXCLUDED.{email} RETURNING {pk}), "
        f"l AS (INSERT INTO {l_table} ({', '.join(l_columns)}, {q('supporter_id')}) "
        f"SELECT {marks(l_values)}, s.{pk} FROM s RETURNING {pk}) "
        f"INSERT INTO {a_table} ({', '.join(a_columns)}, {q('object_id')}) "
        f"SELECT {marks(a_values)}, CAST(l.{pk} AS text) FROM l RETURNING {q('object_id')}, (SELECT {pk} FROM s)"
    )
    params = [*s_values, *l_values, *a_values]

    def run() -> tuple[Any, ...]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return tuple(cursor.fetchone() or ())

    if connection.in_atomic_block:
        with transaction.atomic():  # a savepoint, so a taken key leaves the outer transaction usable
            letter_id, supporter_id = run()
    else:
        letter_id, supporter_id = run()
    letter.pk, letter.supporter_id = int(letter_id), int(supporter_id)
    letter._state.adding, letter._state.db = False, connection.alias


def set_sender_address(*, letter: Letter, postal_address: str) -> Letter:
    with transaction.atomic():
        letter.sender_address = postal_address
        letter.save(update_fields=["sender_address", "updated_at"])
        log_action("letter.sender_address_set", letter)
    return letter
