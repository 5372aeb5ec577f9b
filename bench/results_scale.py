"""The results pages at 0 and at 1,000,000 (issue 15, "Speed"), and the letters CSV of a
million letters: rows a second and the exporting process's peak memory.

    uv run python bench/results_scale.py --pg-url postgres://postgres@127.0.0.1:5432/undersigned_bench_results

PostgreSQL only (the data is built with ``generate_series``). One process, Django's test
client, no server (``request_profile.py``): a signed-in operator asks for the campaign's
results page and the open letter's results page ``--requests`` times each while both are
empty, then after ``build_campaign`` has written ``--letters`` letters (one or two
deliveries each, across channels, evidence levels, 100 recipients and a dozen countries)
and ``build_open_letter`` ``--endorsements`` endorsements of a letter to a group of 100
members; it prints the mean wall and CPU milliseconds and the queries of one request at
each level. Then a separate process (so its memory is the export's alone) downloads the
campaign's letters CSV through the test client, counts its rows and prints rows a second
and its peak RSS.

The builders are plain functions (``build_campaign``, ``build_open_letter``) for other
benchmarks to reuse (the coverage board). They write rows in bulk SQL, around the
services, and then count the kept tallies again from the rows
(``delivery.tallies.rebuild_campaign``, ``openletters.services.counters.rebuild_tallies``),
as a bulk load must.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from request_profile import setup_django, throwaway_database

CHUNK = 100_000
MEMBERS = 100
# The senders' countries rotate through these ("" is a letter with no country given).
COUNTRIES = ("GB", "IE", "FR", "DE", "ES", "IT", "NL", "PL", "CZ", "JP", "US", "")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--letters", type=int, default=1_000_000)
    parser.add_argument("--endorsements", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=10, help="requests timed at each level")
    parser.add_argument("--pg-url", required=True, help="a database on 127.0.0.1 whose name contains 'bench'")
    parser.add_argument("--export", metavar="SLUG", help=argparse.SUPPRESS)  # the export's own process
    return parser.parse_args()


def _members(organisation: Any, prefix: str, count: int) -> list[Any]:
    from undersigned.campaigns.models import Recipient

    return Recipient.objects.bulk_create(
        Recipient(
            organisation=organisation,
            name=f"{prefix} section {n:03}",
            role="Delegate",
            email=f"{prefix.lower()}-{n}@sections.example",
            web_form_url="https://sections.example/contact",
            postal_address=f"Section house {n}\nSome street\nSome town",
            country=COUNTRIES[n % (len(COUNTRIES) - 1)],
        )
        for n in range(count)
    )


def build_campaign(slug: str, letters: int, *, members: int = MEMBERS) -> Any:
    """A live campaign to ``members`` recipients with ``letters`` letters, written in bulk SQL.

    Every letter has a delivery to recipient ``id % members`` by channel ``id % 4`` at
    evidence ``id % 5`` (none to reply), and every third one a mailto copy verified to
    recipient ``(id * 7 + 1) % members``; countries rotate through ``COUNTRIES``, the
    own-words share through 0–100, the days through the last 60. The campaign's tallies
    are counted from the rows at the end. Returns the campaign.
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from undersigned.campaigns.enums import CampaignStatus
    from undersigned.campaigns.models import Campaign, CampaignRecipient, LetterTemplate
    from undersigned.delivery.models import Delivery
    from undersigned.delivery.tallies import rebuild_campaign
    from undersigned.letters.models import Letter
    from undersigned.organisations.models import Organisation
    from undersigned.supporters.models import Supporter

    if connection.vendor != "postgresql":
        raise SystemExit("build_campaign writes with generate_series: PostgreSQL only")
    organisation, _ = Organisation.objects.get_or_create(slug="bench-results", defaults={"name": "Bench results"})
    campaign = Campaign.objects.create(
        organisation=organisation, slug=slug, title="A million letters", summary="", status=CampaignStatus.LIVE
    )
    LetterTemplate.objects.create(campaign=campaign, subject="Please vote for it", body="Dear {{ recipient.name }},")
    recipients = _members(organisation, "Campaign", members)
    CampaignRecipient.objects.bulk_create(
        CampaignRecipient(campaign=campaign, recipient=r, position=n) for n, r in enumerate(recipients)
    )
    # One supporter writes them all: the export and the results never read the supporter.
    supporter = Supporter.objects.create(email=f"bench-{slug}@example.net", name="Bench Writer", country="GB")
    ids = "ARRAY[" + ", ".join(str(r.pk) for r in recipients) + "]"
    countries = "ARRAY[" + ", ".join(f"'{c}'" for c in COUNTRIES) + "]"
    l_table, d_table = Letter._meta.db_table, Delivery._meta.db_table
    insert_letters = (
        f"INSERT INTO {l_table} (created_at, updated_at, campaign_id, supporter_id, sender_name, sender_town, "  # noqa: S608
        "sender_country, sender_address, subject, body, uniqueness, submission_key, token, sent_at, ip_hash) "
        "SELECT %s::timestamptz - (i %% 60) * INTERVAL '1 day', %s, %s, %s, 'Bench Writer', 'Town', "
        f"({countries})[1 + i %% {len(COUNTRIES)}], '', 'Please vote for it', 'Dear member,', (i * 13) %% 101, "
        "gen_random_uuid(), md5(i::text || random()::text), %s, '' "
        "FROM generate_series(%s::bigint, %s::bigint) AS seq(i)"
    )
    channel = "CASE l.id %% 4 WHEN 0 THEN 'email' WHEN 1 THEN 'mailto' WHEN 2 THEN 'web_form' ELSE 'post' END"
    common = "'sent', {evidence}, 1, '', '', FALSE, '', '', NULL, NULL, NULL, NULL, NULL, NULL, NULL"
    columns = (
        "created_at, updated_at, letter_id, recipient_id, channel, status, evidence, attempts, last_error, "
        "message_id, copy_to_sender, smtp_response, copy_text, reported_at, next_attempt_at, sending_started_at, "
        "sent_at, verified_at, bounced_at, digest_id"
    )
    insert_deliveries = (
        f"INSERT INTO {d_table} ({columns}) "  # noqa: S608
        f"SELECT %s, %s, l.id, ({ids})[1 + l.id %% {members}], {channel}, "
        + common.format(evidence="(ARRAY[0, 10, 20, 30, 40])[1 + l.id %% 5]")
        + f" FROM {l_table} l WHERE l.campaign_id = %s AND l.id > %s"
    )
    insert_copies = (
        f"INSERT INTO {d_table} ({columns}) "  # noqa: S608
        f"SELECT %s, %s, l.id, ({ids})[1 + (l.id * 7 + 1) %% {members}], 'mailto', "
        + common.format(evidence="20")
        + f" FROM {l_table} l WHERE l.campaign_id = %s AND l.id > %s AND l.id %% 3 = 0 "
        f"AND ({ids})[1 + (l.id * 7 + 1) %% {members}] <> ({ids})[1 + l.id %% {members}]"
    )
    now = timezone.now()
    started = time.monotonic()
    done = 0
    while done < letters:
        size = min(CHUNK, letters - done)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {l_table}")  # noqa: S608
            (last,) = cursor.fetchone()
            cursor.execute(insert_letters, [now, now, campaign.pk, supporter.pk, now, done + 1, done + size])
            cursor.execute(insert_deliveries, [now, now, campaign.pk, last])
            cursor.execute(insert_copies, [now, now, campaign.pk, last])
        done += size
        print(f"  {done:>9,} letters ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
    Campaign.objects.filter(pk=campaign.pk).update(letters_sent=letters)
    with connection.cursor() as cursor:
        for table in (l_table, d_table):
            cursor.execute(f"VACUUM ANALYZE {table}")
    counted = time.monotonic()
    rebuild_campaign(campaign.pk)
    print(f"  tallies counted from the rows in {time.monotonic() - counted:.1f} s", file=sys.stderr, flush=True)
    return campaign


def build_open_letter(slug: str, endorsements: int, *, members: int = MEMBERS) -> Any:
    """A published open letter to a group of ``members`` recipients with ``endorsements``
    confirmed, public endorsements (``seed.endorsements``; its kept counters move), and
    its results tallies counted from the rows. Returns the letter."""
    import seed  # here: it sets Django up on import, so only after setup_django

    from undersigned.campaigns.models import RecipientGroup, RecipientGroupMember
    from undersigned.openletters.models import OpenLetter, OpenLetterStatus
    from undersigned.openletters.services import versions
    from undersigned.openletters.services.counters import rebuild_tallies
    from undersigned.organisations.models import Organisation

    organisation, _ = Organisation.objects.get_or_create(slug="bench-results", defaults={"name": "Bench results"})
    group = RecipientGroup.objects.create(organisation=organisation, name="Sections")
    RecipientGroupMember.objects.bulk_create(
        RecipientGroupMember(group=group, recipient=r) for r in _members(organisation, "Letter", members)
    )
    letter = OpenLetter.objects.create(
        organisation=organisation,
        slug=slug,
        title="A million endorsements",
        text="Dear sections,\n\nPlease vote for it.",
        status=OpenLetterStatus.PUBLISHED,
        recipient_group=group,
    )
    versions.record_version(letter=letter)
    if endorsements:
        seed.endorsements(slug, endorsements)
        rebuild_tallies(letter.pk)
    return OpenLetter.objects.get(pk=letter.pk)


def _time(label: str, client: Any, url: str, count: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection):
        response = client.get(url)
        queries = len(connection.queries)  # the request's own (each request starts a fresh log)
    assert response.status_code == 200, response.status_code
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        client.get(url)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<52} {wall / count * 1000:8.1f} ms wall {cpu / count * 1000:8.1f} ms CPU {queries:4} queries")


def _operator() -> Any:
    from django.contrib.auth import get_user_model
    from django.test import Client

    user_model = get_user_model()
    user = user_model.objects.filter(username="bench-operator").first() or user_model.objects.create_superuser(
        "bench-operator", "bench@example.net", "x" * 20
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM). Not ``getrusage``'s ``ru_maxrss``: Linux
    carries that over ``exec`` from the forking parent, here the process that built the data."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux


def export_letters(slug: str) -> None:
    """In its own process: stream the campaign's letters CSV to nowhere; print rows/s and peak RSS."""
    from django.urls import reverse

    if os.environ.get("BENCH_EXPORT_CHUNK"):  # to try another chunk size
        from undersigned.delivery import queries

        queries.EXPORT_CHUNK = int(os.environ["BENCH_EXPORT_CHUNK"])
    steps = [("Django set up", _peak_mb())]
    client = _operator()
    steps.append(("signed in", _peak_mb()))
    client.get(reverse("dashboard:campaign_results", args=[slug]))  # every view module imported, as in a worker
    before_mb = _peak_mb()
    steps.append(("one page served", before_mb))
    print("  peak RSS: " + ", ".join(f"{what} {mb:.0f} MB" for what, mb in steps), flush=True)
    started = time.perf_counter()
    response = client.get(reverse("dashboard:export_letters", args=[slug]))
    assert response.status_code == 200, response.status_code
    lines = 0
    for chunk in response.streaming_content:
        lines += bytes(chunk).count(b"\n")
    seconds = time.perf_counter() - started
    rows = lines - 1  # the header
    peak_mb = _peak_mb()
    print(
        f"letters CSV: {rows:,} rows in {seconds:.1f} s, {rows / seconds:,.0f} rows/s, "
        f"peak RSS {peak_mb:.0f} MB (the process before the export: {before_mb:.0f} MB)"
    )


def main() -> None:
    args = _parse_args()
    if args.export:
        # The parent's environment (request_profile.setup_django) and database, migrated
        # already: Django set up without loading the migrations, which would count in the peak.
        import django

        django.setup()
        export_letters(args.export)
        return
    with throwaway_database(args.pg_url) as (tmp, database_url):
        _run(tmp, database_url, args)


def _run(tmp: Path, database_url: str, args: argparse.Namespace) -> None:
    setup_django(tmp, database_url, rate_limits="")
    from django.urls import reverse

    client = _operator()
    empty_campaign = build_campaign("bench-empty-campaign", 0)
    empty_letter = build_open_letter("bench-empty-letter", 0)
    campaign_url = reverse("dashboard:campaign_results", args=[empty_campaign.slug])
    letter_url = reverse("dashboard:open_letter_results", args=[empty_letter.slug])
    _time("campaign results page, 0 letters", client, campaign_url, args.requests)
    _time("open letter results page, 0 endorsements", client, letter_url, args.requests)

    started = time.monotonic()
    campaign = build_campaign("bench-campaign", args.letters)
    print(f"  ({args.letters:,} letters built in {time.monotonic() - started:.0f} s)", flush=True)
    started = time.monotonic()
    letter = build_open_letter("bench-letter", args.endorsements)
    print(f"  ({args.endorsements:,} endorsements built in {time.monotonic() - started:.0f} s)", flush=True)
    campaign_url = reverse("dashboard:campaign_results", args=[campaign.slug])
    letter_url = reverse("dashboard:open_letter_results", args=[letter.slug])
    _time(f"campaign results page, {args.letters:,} letters", client, campaign_url, args.requests)
    _time(f"open letter results page, {args.endorsements:,} endorsements", client, letter_url, args.requests)

    from django.db import connections

    connections.close_all()
    subprocess.run([sys.executable, __file__, "--pg-url", args.pg_url, "--export", campaign.slug], check=True)


if __name__ == "__main__":
    main()
