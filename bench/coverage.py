"""The coverage board (issue 15) of a campaign addressed to a group of 100 members, at 0
letters and at ``--letters`` letters with a delivery each, spread over the members.

    uv run python bench/coverage.py                          # SQLite in a temporary folder
    uv run python bench/coverage.py --letters 1000000 --pg-url postgres://postgres@127.0.0.1:5432/undersigned_bench

One process, no server (``request_profile.py``): the workspace's coverage page (a
signed-in operator), the public campaign page with its board (a visitor without a
session: the kept page, rebuilt only when a count moves) and a composer step that
routes a letter by country (``own_or_unreached``, which reads the tally), each
``--requests`` times at each level; prints the mean wall and CPU milliseconds and the
queries of one request. The board reads ``delivery.queries.letters_by_recipient``: the
figures at the large level show whether that read is kept or counts rows.
"""

from __future__ import annotations

import argparse
import time
import uuid
from pathlib import Path

from request_profile import setup_django, throwaway_database
from results import _time

MEMBERS = 100


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--letters", type=int, default=100_000, help="letters in the large campaign")
    parser.add_argument("--requests", type=int, default=20, help="requests timed at each level")
    parser.add_argument("--pg-url", help="a database on 127.0.0.1 whose name contains 'bench' (created and dropped)")
    args = parser.parse_args()
    if not 1 <= args.letters <= 2_000_000:
        parser.error("--letters must be 1–2000000")
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

    from undersigned.campaigns.models import Campaign

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
        _time(f"public campaign page with board, {level}", lambda: visitor.get(public), args.requests)
        _time(f"composer routing step, {level}", lambda: visitor.post(composer, step), args.requests)

    measure("0 letters")
    started = time.monotonic()
    seed.letters(slug, args.letters)
    _add_deliveries(campaign.pk, members[0])
    print(f"  ({args.letters:,} letters and deliveries inserted in {time.monotonic() - started:.0f} s)")
    measure(f"{args.letters:,} letters")


if __name__ == "__main__":
    main()
