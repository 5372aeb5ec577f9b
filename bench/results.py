"""The results page (issue 15) at a small and a large campaign, and what counting
"composer opened" in memory saves the composer page.

    uv run python bench/results.py                          # SQLite in a temporary folder
    uv run python bench/results.py --letters 100000 --pg-url postgres://postgres@127.0.0.1:5432/undersigned_bench

One process, no server (``request_profile.py``): a signed-in operator's test client asks
for the campaign's results page ``--requests`` times at 0 letters, then after
``--letters`` letters and one delivery each are bulk-inserted (``seed.py``; channels and
evidence levels rotate) and the campaign's tallies counted from them, and prints the
mean wall and CPU milliseconds and the queries of one request at each level. Then the
composer page ``--requests`` times twice: with
``letters/composer_counts.py`` as it runs (counts kept in memory, written every
``FLUSH_SECONDS``) and with ``FLUSH_SECONDS = 0`` (the same ``F()`` update on every
request, the plain way).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from request_profile import setup_django, throwaway_database


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--letters", type=int, default=100_000, help="letters in the large campaign")
    parser.add_argument("--requests", type=int, default=20, help="requests timed at each level")
    parser.add_argument("--pg-url", help="a database on 127.0.0.1 whose name contains 'bench' (created and dropped)")
    args = parser.parse_args()
    if not 1 <= args.letters <= 2_000_000:
        parser.error("--letters must be 1–2000000")
    return args


def _time(label: str, call: Any, count: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection):
        response = call()
        queries = len(connection.queries)  # the request's own (each request starts a fresh log)
    assert response.status_code == 200, response.status_code
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        call()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<44} {wall / count * 1000:8.1f} ms wall {cpu / count * 1000:8.1f} ms CPU {queries:4} queries")


def _add_deliveries(campaign_id: int, recipient_id: int) -> None:
    """One delivery per letter; channel and evidence rotate with the letter's id."""
    from django.db import connection, transaction
    from django.utils import timezone

    from undersigned.delivery.models import Delivery

    table = Delivery._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    sql = (
        f"INSERT INTO {table} (created_at, updated_at, letter_id, recipient_id, channel, status, evidence, "  # noqa: S608
        "attempts, last_error, message_id, copy_to_sender, smtp_response, copy_text) "
        "SELECT %s, %s, id, %s, "
        "CASE id %% 4 WHEN 0 THEN 'email' WHEN 1 THEN 'mailto' WHEN 2 THEN 'web_form' ELSE 'post' END, "
        "'sent', CASE id %% 5 WHEN 0 THEN 0 WHEN 1 THEN 10 WHEN 2 THEN 20 WHEN 3 THEN 30 ELSE 40 END, "
        "1, '', '', FALSE, '', '' FROM letters_letter WHERE campaign_id = %s"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [now, now, recipient_id, campaign_id])
    if connection.vendor == "postgresql":  # fresh planner statistics, as seed.py does
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
    from undersigned.letters import composer_counts

    print(f"database: {connection.vendor}")
    slug = str(seed.prepare()["slug"])
    campaign = Campaign.objects.get(slug=slug)
    recipient_id = campaign.recipients.values_list("pk", flat=True).first()
    user = get_user_model().objects.create_superuser("bench-operator", "bench@example.net", "x" * 20)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    url = reverse("dashboard:campaign_results", args=[slug])
    _time("results page, 0 letters", lambda: client.get(url), args.requests)
    started = time.monotonic()
    seed.letters(slug, args.letters)
    _add_deliveries(campaign.pk, int(recipient_id or 0))
    from undersigned.delivery.tallies import rebuild_campaign

    rebuild_campaign(campaign.pk)  # written in SQL around the services: count the tallies from the rows
    print(f"  ({args.letters:,} letters and deliveries inserted in {time.monotonic() - started:.0f} s)")
    _time(f"results page, {args.letters:,} letters", lambda: client.get(url), args.requests)

    composer = reverse("public:compose", args=[slug])
    visitor = Client(HTTP_HOST="127.0.0.1")
    composer_counts.flush()
    _time("composer page, openings counted in memory", lambda: visitor.get(composer), args.requests * 10)
    composer_counts.FLUSH_SECONDS = 0.0  # every opening written at once: the plain F() update
    _time("composer page, an F() update per opening", lambda: visitor.get(composer), args.requests * 10)
    composer_counts.flush()


if __name__ == "__main__":
    main()
