"""Fence (b): parallel writers. Threads, each with its own database connection, save letters
into one campaign and climb the evidence of the same letters at once (several channels,
copies coming back), and endorsements of one open letter are confirmed, hidden and
withdrawn at once; afterwards every tally equals the recount: no increment lost, none
counted twice, no deadlock."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, connections

from tests.delivery.test_inbound import copy_of
from tests.factories import CampaignFactory, RecipientFactory
from tests.openletters.conftest import make_open_letter
from tests.tallies.recount import (
    kept_campaign,
    kept_open_letter,
    recount_campaign,
    recount_letters_by_recipient,
    recount_open_letter,
)
from undersigned.campaigns.enums import Channel
from undersigned.delivery import queries
from undersigned.delivery.services import record_copy, record_delivery
from undersigned.letters.models import Letter
from undersigned.letters.services import LetterInput, save_letter
from undersigned.openletters.models import Endorsement, OpenLetter
from undersigned.openletters.services import endorsing, moderation

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6
LETTERS_PER_THREAD = 15


def _postgresql_only() -> None:
    if connection.vendor != "postgresql":
        # SQLite takes one writer at a time for the whole file, so there is no race to
        # fence; and the in-memory test database's shared cache answers a second writer
        # "database table is locked" at once instead of waiting (its busy timeout does
        # not apply), so the threads would fail rather than queue. CI runs this on PostgreSQL.
        pytest.skip(
            "parallel writers need PostgreSQL: SQLite takes one writer at a time, so there is "
            "no race to fence (CI runs this on PostgreSQL)"
        )


def _in_threads(work: Callable[[int], None]) -> None:
    start = threading.Barrier(THREADS)

    def run(n: int) -> None:
        try:
            start.wait()
            work(n)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(run, n) for n in range(THREADS)]:
            future.result()


def _input(n: int) -> LetterInput:
    return LetterInput(
        name=f"Writer {n}",
        email=f"writer{n}@example.net",
        town="Wendmouth",
        country=("GB", "IE", "FR", "")[n % 4],
        postal_address="12 Eastfield Road\nWendmouth",
        subject="Please keep the riverside path open",
        body=f"Dear Chair,\n\nThe path matters. {'Our own words here. ' * (n % 5)}\n\nYours, Writer {n}",
    )


def test_parallel_letters_and_climbing_evidence_lose_no_count(organisation: Any) -> None:
    _postgresql_only()
    board = RecipientFactory(organisation=organisation, name="Wend River Board")
    chair = RecipientFactory(organisation=organisation, name="Chair of the Council")
    campaign = CampaignFactory(organisation=organisation, slug="riverside", recipients=[board, chair])
    shared = [
        save_letter(campaign=campaign, submission_key=uuid.uuid4(), data=_input(1000 + n)) for n in range(THREADS)
    ]

    def work(thread: int) -> None:
        for n in range(LETTERS_PER_THREAD):
            number = thread * LETTERS_PER_THREAD + n
            letter = save_letter(campaign=campaign, submission_key=uuid.uuid4(), data=_input(number))
            record_delivery(letter=letter, recipient=(board, chair)[n % 2], channel=Channel.WEB_FORM)
            # Every thread climbs every shared letter at once: the same rows, other channels.
            target = Letter.objects.select_related("campaign").get(pk=shared[(thread + n) % THREADS].pk)
            channel = (Channel.MAILTO, Channel.WEB_FORM, Channel.POST)[n % 3]
            record_delivery(letter=target, recipient=(board, chair)[(thread + n) % 2], channel=channel)
            if n % 4 == 0:
                record_copy(letter_id=target.pk, message=copy_of(target, to=[board, chair], body="Dear both"))

    _in_threads(work)

    assert Letter.objects.filter(campaign=campaign).count() == THREADS * (LETTERS_PER_THREAD + 1)
    kept, recounted = kept_campaign(campaign.pk), recount_campaign(campaign.pk)
    assert kept == recounted
    assert recounted[("saved", "")] == THREADS * (LETTERS_PER_THREAD + 1)
    assert queries.letters_by_recipient(campaign.pk) == recount_letters_by_recipient(campaign.pk)


def test_parallel_endorsements_lose_no_count(organisation: Any, smtp_sink: Any) -> None:
    _postgresql_only()
    letter = make_open_letter(organisation)

    def work(thread: int) -> None:
        for n in range(LETTERS_PER_THREAD):
            made = endorsing.endorse(
                letter=letter,
                data=endorsing.EndorsementInput(name=f"E {thread}-{n}", email=f"e{thread}-{n}@example.org"),
            )
            if n % 3 == 0:
                continue  # left waiting
            made.refresh_from_db()
            endorsing.confirm(endorsement_id=made.pk, nonce=made.confirm_nonce)
            if n % 3 == 1:
                moderation.hide(endorsement=made, reason="spam", actor=None)
            elif n % 5 == 0:
                made.refresh_from_db()
                endorsing.withdraw(endorsement_id=made.pk, secret=made.withdraw_secret)

    _in_threads(work)

    assert Endorsement.objects.filter(letter=letter).count() == THREADS * LETTERS_PER_THREAD
    kept, recounted = kept_open_letter(letter.pk), recount_open_letter(letter.pk)
    assert kept == recounted
    assert recounted[("pending", "")] == THREADS * 5
    fresh = OpenLetter.objects.get(pk=letter.pk)
    confirmed = Endorsement.objects.filter(letter=letter, status="confirmed", hidden=False).count()
    assert fresh.verified_count == confirmed
