"""The coverage board (issue 15) of a campaign addressed to a group of 100 members, at 0
letters and at ``--letters`` letters with a delivery each, spread over the members; and
an open letter's public page with its board, a group of 100 members, at 0 and at
``--endorsements`` verified endorsements.

    uv run python bench/coverage.py                          # SQLite in a temporary folder
    uv run python bench/coverage.py --letters 1000000 --pg-url postgres://postgres@127.0.0.1:5432/undersigned_bench

One process, no server (``request_profile.py``): the workspace's coverage page (a
signed-in operator), the public campaign page with its board (a visitor without a
session: the kept page, rebuilt only when a count moves) and a composer step that
routes a letter by country (``own_or_unreached``, which reads the tally), each
``--requests`` times at each level; prints the mean wall and CPU milliseconds and the
queries of one request. The board reads ``delivery.queries.letters_by_recipient``: the
figures at the large level show whether that read is kept or counts rows. Letters,
deliveries and endorsements are written in bulk SQL, around the services, so the kept
tallies are counted again from the rows afterwards, as a bulk load must
(``delivery.tallies.rebuild_campaign``; ``results_scale.build_open_letter`` does the
endorsements').

The open letter's page is timed twice: as visitors get it (kept whole in the worker until
an endorsement moves its stamp) and rendered afresh, the worker's kept pages and the
cache emptied before each request, so that the board's read is in every request.
"""

from __future__ import annotations

import argparse
import time
import uuid
from pathlib import Path
from typing import Any

from request_profile import setup_django, throwaway_database
from results import _time

MEMBERS = 100


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--letters", type=int, default=100_000, help="letters in the large campaign")
    parser.add_argument("--endorsements", type=int, default=100_000, help="endorsements of the large open letter")
    parser.add_argument("--requests", type=int, default=20, help="requests timed at each level")
    parser.add_argument("--pg-url", help="a database on 127.0.0.1 whose name contains 'bench' (created and dropped)")
    args = parser.parse_args()
    if not 1 <= args.letters <= 2_000_000:
        parser.error("--letters must be 1–2000000")
    if not 1 <= args.endorsements <= 2_000_000:
        parser.error("--endorsements must be 1–2000000")
    return args


def _address_to_group(campaign_id: int) -> list[int]:
    """Make the campaign's recipients a group of MEMBERS national sections (weights 1–3)."""
    from undersigned.campaigns.enums import Routing
    from undersigned.campaigns.models import (
        Campaign,
        CampaignRecipient,
        Recipient,
        RecipientGroup,
        RecipientGroupMember,
    )

    campaign = Campaign.objects.get(pk=campaign_id)
    group = RecipientGroup.objects.create(organisation=campaign.organisation, name="Bench sections")
    ids = []
    for number in range(MEMBERS):
        recipient = Recipient.objects.create(
            organisation=campaign.organisation,
            name=f"Section {number:03}",
            email=f"section{number}@example.net",
            country=f"{chr(65 + number // 26)}{chr(65 + number % 26)}",
        )
        RecipientGroupMember.objects.create(group=group, recipient=recipient, vote_weight=1 + number % 3)
        ids.append(recipient.pk)
    CampaignRecipient.objects.filter(campaign=campaign).delete()
    CampaignRecipient.objects.bulk_create(
        CampaignRecipient(campaign=campaign, recipient_id=pk, position=n) for n, pk in enumerate(ids)
    )
    Campaign.objects.filter(pk=campaign_id).update(recipient_group=group, routing=Routing.OWN_OR_UNREACHED)
    return ids


def _add_deliveries(campaign_id: int, first_member: int) -> None:
    """One delivery per letter, to member ``id % MEMBERS``, at self-reported evidence or above."""
    from django.db import connection, transaction
    from django.utils import timezone

    from undersigned.delivery.models import Delivery

    table = Delivery._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    sql = (
        f"INSERT INTO {table} (created_at, updated_at, letter_id, recipient_id, channel, status, evidence, "  # noqa: S608
        "attempts, last_error, message_id, copy_to_sender, smtp_response, copy_text) "
        f"SELECT %s, %s, id, %s + (id %% {MEMBERS}), 'mailto', 'sent', 10, 1, '', '', FALSE, '', '' "
        "FROM letters_letter WHERE campaign_id = %s"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [now, now, first_member, campaign_id])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {table}")


def _afresh(client: Any, url: str) -> Any:
    """The page as a worker's first visitor gets it: the worker's kept pages dropped (the
    shared cache stays, as it does for a new worker)."""
    from undersigned.core.kept_pages import _kept_pages

    _kept_pages.clear()
    return client.get(url)


def _measure_letter(visitor: Any, slug: str, level: str, requests: int) -> None:
    from django.urls import reverse

    page = reverse("openletters:letter", args=[slug])
    visitor.get(page)  # kept from here until an endorsement moves the stamp
    _time(f"open letter page with board, {level}", lambda: visitor.get(page), requests)
    _time(f"  rendered afresh, {level}", lambda: _afresh(visitor, page), requests)


def main() -> None:
    args = _parse_args()
    with throwaway_database(args.pg_url) as (tmp, database_url):
        _run(tmp, database_url, args)


def _run(tmp: Path, database_url: str, args: argparse.Namespace) -> None:
    setup_django(tmp, database_url, rate_limits="compose=1000000/m")
    import seed  # after Django is set up (it sets it up too)
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from results_scale import build_open_letter

    from undersigned.campaigns.models import Campaign
    from undersigned.delivery.tallies import rebuild_campaign

    print(f"database: {connection.vendor}")
    slug = str(seed.prepare()["slug"])
    campaign = Campaign.objects.get(slug=slug)
    members = _address_to_group(campaign.pk)
    assert members == list(range(members[0], members[0] + MEMBERS)), "members' ids are consecutive"
    user = get_user_model().objects.create_superuser("bench-operator", "bench@example.net", "x" * 20)
    operator = Client(HTTP_HOST="127.0.0.1")
    operator.force_login(user)
    visitor = Client(HTTP_HOST="127.0.0.1")
    workspace = reverse("dashboard:campaign_coverage", args=[slug])
    public = reverse("public:campaign", args=[slug])
    composer = reverse("public:compose", args=[slug])
    step = {"submission_key": str(uuid.uuid4()), "country": "AB", "action": "preview", "name": "Bench"}

    def measure(level: str) -> None:
        _time(f"workspace coverage page, {level}", lambda: operator.get(workspace), args.requests)
        visitor.get(public)  # kept from here until a count moves: the queries below are a kept page's
        _time(f"public campaign page with board, {level}", lambda: visitor.get(public), args.requests)
        _time(f"  rendered afresh, {level}", lambda: _afresh(visitor, public), args.requests)
        _time(f"composer routing step, {level}", lambda: visitor.post(composer, step), args.requests)

    measure("0 letters")
    _measure_letter(visitor, build_open_letter("bench-coverage-empty", 0).slug, "0 endorsements", args.requests)
    started = time.monotonic()
    seed.letters(slug, args.letters)
    _add_deliveries(campaign.pk, members[0])
    print(f"  ({args.letters:,} letters and deliveries inserted in {time.monotonic() - started:.0f} s)")
    started = time.monotonic()
    rebuild_campaign(campaign.pk)
    print(f"  (the campaign's tallies counted from the rows in {time.monotonic() - started:.1f} s)")
    measure(f"{args.letters:,} letters")
    started = time.monotonic()
    letter = build_open_letter("bench-coverage-letter", args.endorsements)
    print(f"  ({args.endorsements:,} endorsements inserted, tallies counted, in {time.monotonic() - started:.0f} s)")
    _measure_letter(visitor, letter.slug, f"{args.endorsements:,} endorsements", args.requests)


if __name__ == "__main__":
    main()
