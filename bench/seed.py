"""Data for the benchmarks, run in its own process with the product's environment.

    python bench/seed.py prepare              the reference's table; a live campaign (JSON: slug)
    python bench/seed.py letters --slug S --count N
                                              bulk-insert N supporters and N sent letters
    python bench/seed.py endorsements --slug S --count N
                                              bulk-insert N confirmed, public endorsements of
                                              the open letter S (counters move with them)

Bulk inserts run inside the database (``generate_series`` on PostgreSQL, a recursive
CTE on SQLite) in chunks of one transaction each, so a million letters take seconds to
minutes, not hours. The campaign's kept counter ``letters_sent`` moves by the same
number, as if every letter had been sent.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "undersigned.settings")

import django

django.setup()  # before the models below can be imported (hence E402)

from django.db import connection, transaction  # noqa: E402
from django.db.models import F, Max  # noqa: E402
from django.utils import timezone  # noqa: E402
from reference_app import create_table  # noqa: E402

from undersigned.campaigns.enums import CampaignStatus  # noqa: E402
from undersigned.campaigns.models import Campaign, CampaignRecipient, LetterTemplate, Recipient  # noqa: E402
from undersigned.letters.models import Letter  # noqa: E402
from undersigned.organisations.models import Organisation  # noqa: E402
from undersigned.supporters.models import Supporter  # noqa: E402

CHUNK = 100_000
BODY = (
    "Dear {{ recipient.name }},\n\n"
    "I live in {{ supporter.town }}, and I am writing about planning application 26/0412/FUL.\n\n"
    "Please ask for the path to stay open in sections while the work is done.\n\n"
    "I walk my daughter to school along the path every morning.\n\n"
    "Yours sincerely,\n{{ supporter.name }}"
)


def _fallback_campaign() -> Campaign:
    """A small live campaign, for versions that ship no demo campaign file."""
    organisation, _ = Organisation.objects.get_or_create(slug="bench-org", defaults={"name": "Bench Organisation"})
    campaign = Campaign.objects.create(
        organisation=organisation,
        slug="bench-campaign",
        title="Keep the riverside path open",
        summary="A campaign for the benchmark.",
        background="The **riverside path** links the estate to the school.",
        status=CampaignStatus.LIVE,
    )
    LetterTemplate.objects.create(campaign=campaign, subject="Please keep the riverside path open", body=BODY)
    recipient = Recipient.objects.create(
        organisation=organisation,
        name="Councillor Rowan Ashby",
        role="Chair of the Planning Committee",
        email="chair@council.example",
        postal_address="Town Hall\n1 Market Square\nWendmouth\nWM1 1AA",
    )
    CampaignRecipient.objects.create(campaign=campaign, recipient=recipient, position=0)
    return campaign


def prepare() -> dict[str, object]:
    create_table(connection)
    campaign = Campaign.objects.filter(status=CampaignStatus.LIVE).order_by("pk").first() or _fallback_campaign()
    if campaign.deadline is not None and campaign.deadline <= timezone.now() + timedelta(days=1):
        # The demo file's deadline may have passed by the time this runs; a closed
        # campaign answers the composer with "closed" and nothing would be measured.
        Campaign.objects.filter(pk=campaign.pk).update(deadline=timezone.now() + timedelta(days=365))
    return {"slug": campaign.slug, "letters_sent": campaign.letters_sent}


def _columns(model: type[Supporter] | type[Letter], given: list[str]) -> str:
    """The column list, checked against the model so a new required column fails with a clear message."""
    concrete = {str(f.column) for f in model._meta.concrete_fields if not f.primary_key}
    missing = concrete - set(given)
    if missing:
        raise SystemExit(f"seed.py does not fill {model._meta.db_table} columns {sorted(missing)}; update it")
    return ", ".join(given)


SUPPORTER_COLUMNS = ["created_at", "updated_at", "email", "name", "town", "country", "postal_address"]
LETTER_COLUMNS = [
    "created_at",
    "updated_at",
    "campaign_id",
    "supporter_id",
    "sender_name",
    "sender_town",
    "sender_country",
    "sender_address",
    "subject",
    "body",
    "uniqueness",
    "submission_key",
    "token",
    "sent_at",
    "ip_hash",
    "addressed_to_id",  # NULL: to every recipient, as campaigns without a group send
    "counted_at",  # now: the campaign's counter counts them (delivery/counter.py's gate)
    "confirmation_sent_at",  # NULL: no email about the letter sent to the supporter yet
    "posted_notice_sent_at",
]


def _chunk_sql() -> tuple[str, str]:
    supporters = _columns(Supporter, SUPPORTER_COLUMNS)
    letters = _columns(Letter, LETTER_COLUMNS)
    s_table, l_table = Supporter._meta.db_table, Letter._meta.db_table
    # Table and column names come from the models; every value is a query parameter.
    if connection.vendor == "postgresql":
        series = "generate_series(%s::bigint, %s::bigint) AS seq(i)"
        random_key, random_token = "gen_random_uuid()", "md5(random()::text || s.id::text)"
        prefix = ""
    else:
        series = "seq"
        random_key, random_token = "lower(hex(randomblob(16)))", "lower(hex(randomblob(16)))"
        prefix = "WITH RECURSIVE seq(i) AS (SELECT %s UNION ALL SELECT i + 1 FROM seq WHERE i < %s) "
    insert_supporters = (
        f"INSERT INTO {s_table} ({supporters}) {prefix}"  # noqa: S608 (names from the models)
        f"SELECT %s, %s, 'bench-' || i || '@example.net', 'Bench Supporter ' || i, 'Wendmouth', 'GB', '' "
        f"FROM {series}"
    )
    insert_letters = (
        f"INSERT INTO {l_table} ({letters}) "  # noqa: S608 (names from the models)
        f"SELECT %s, %s, %s, s.id, s.name, s.town, s.country, '', %s, %s, 40, {random_key}, {random_token}, %s, '', "
        "NULL, %s, NULL, NULL "
        f"FROM {s_table} s WHERE s.id > %s ORDER BY s.id"
    )
    return insert_supporters, insert_letters


def letters(slug: str, count: int) -> dict[str, object]:
    campaign = Campaign.objects.select_related("template").get(slug=slug)
    insert_supporters, insert_letters = _chunk_sql()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    first = (Supporter.objects.aggregate(m=Max("id"))["m"] or 0) + 1  # fresh numbers for the e-mail addresses
    started = time.monotonic()
    done = 0
    while done < count:
        size = min(CHUNK, count - done)
        start, end = first + done, first + done + size - 1
        with transaction.atomic(), connection.cursor() as cursor:
            before = Supporter.objects.aggregate(m=Max("id"))["m"] or 0
            cursor.execute(
                insert_supporters, [start, end, now, now] if connection.vendor == "sqlite" else [now, now, start, end]
            )
            cursor.execute(insert_letters, [now, now, campaign.pk, campaign.template.subject, BODY, now, now, before])
            Campaign.objects.filter(pk=campaign.pk).update(letters_sent=F("letters_sent") + size)
        done += size
        print(f"  {done:>9,} letters inserted ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
    inserted = time.monotonic() - started
    with connection.cursor() as cursor:
        # Fresh planner statistics and no autovacuum storm during the measurement that follows.
        if connection.vendor == "postgresql":
            for table in (Supporter._meta.db_table, Letter._meta.db_table):
                cursor.execute(f"VACUUM ANALYZE {table}")
        else:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    campaign.refresh_from_db()
    return {
        "inserted": count,
        "insert_seconds": round(inserted, 1),
        "total_seconds": round(time.monotonic() - started, 1),
        "letters_sent": campaign.letters_sent,
    }


ENDORSEMENT_COLUMNS = [
    "created_at",
    "updated_at",
    "letter_id",
    "kind",
    "name",
    "role",
    "organisation",
    "country",
    "statement",
    "website",
    "signatory",
    "email",
    "email_normalised",
    "show_publicly",
    "wants_updates",
    "status",
    "is_listed",
    "hidden",
    "hidden_reason",
    "featured",
    "search_text",
    "version_id",
    "text_hash",
    "confirm_nonce",
    "confirm_expires_at",
    "confirmation_sent_at",
    "pending_update",
    "withdraw_secret",
    "confirmed_at",
    "withdrawn_at",
    "ip_hash",
]
# Endorsers' countries rotate through these, so the country filter has work to do.
COUNTRIES = ("IE", "CZ", "JP", "GB", "DE", "FR", "ES", "IT", "NL", "PL")


def endorsements(slug: str, count: int) -> dict[str, object]:
    """Bulk-insert confirmed, public endorsements of an open letter, as if each was confirmed."""
    from undersigned.openletters.models import Endorsement, EndorsementCountry, OpenLetter

    letter = OpenLetter.objects.select_related("current_version").get(slug=slug)
    version = letter.current_version
    if version is None:
        raise SystemExit(f"open letter {slug} has no published version")
    concrete = {str(f.column) for f in Endorsement._meta.concrete_fields if not f.primary_key}
    missing = concrete - set(ENDORSEMENT_COLUMNS)
    if missing:
        raise SystemExit(f"seed.py does not fill openletters_endorsement columns {sorted(missing)}; update it")
    columns = ", ".join(ENDORSEMENT_COLUMNS)
    table = Endorsement._meta.db_table
    country = "(ARRAY[" + ", ".join(f"'{c}'" for c in COUNTRIES) + f"])[1 + i %% {len(COUNTRIES)}]"
    if connection.vendor == "postgresql":
        series, prefix, rand = "generate_series(%s::bigint, %s::bigint) AS seq(i)", "", "md5(random()::text || i::text)"
    else:
        series = "seq"
        prefix = "WITH RECURSIVE seq(i) AS (SELECT %s UNION ALL SELECT i + 1 FROM seq WHERE i < %s) "
        rand = "lower(hex(randomblob(16)))"
        country = "CASE i %% 10 " + " ".join(f"WHEN {n} THEN '{c}'" for n, c in enumerate(COUNTRIES)) + " END"
    insert = (
        f"INSERT INTO {table} ({columns}) {prefix}"  # noqa: S608 (names from the model, values are parameters)
        "SELECT %s, %s, %s, 'person', 'Bench Endorser ' || i, 'Member', 'Walking Club ' || (i %% 997), "
        f"{country}, '', '', '', 'bench-endorser-' || i || '@example.net', "
        "'bench-endorser-' || i || '@example.net', TRUE, FALSE, 'confirmed', TRUE, FALSE, '', FALSE, "
        "'benchendorser' || i || ' walkingclub' || (i %% 997), %s, %s, '', NULL, NULL, NULL, "
        f"substr({rand}, 1, 32), %s, NULL, '' FROM {series}"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    first = Endorsement.objects.filter(letter=letter).count() + 1
    started = time.monotonic()
    done = 0
    while done < count:
        size = min(CHUNK, count - done)
        start, end = first + done, first + done + size - 1
        values = [now, now, letter.pk, version.pk, version.text_hash, now]
        params = [start, end, *values] if connection.vendor == "sqlite" else [*values, start, end]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(insert, params)
        done += size
        print(f"  {done:>9,} endorsements inserted ({time.monotonic() - started:.0f} s)", file=sys.stderr, flush=True)
    # The kept counters, as the services would have moved them.
    with transaction.atomic():
        OpenLetter.objects.filter(pk=letter.pk).update(verified_count=F("verified_count") + count)
        for index, code in enumerate(COUNTRIES):
            added = len(range(first + (index - first) % len(COUNTRIES), first + count, len(COUNTRIES)))
            row, _ = EndorsementCountry.objects.get_or_create(letter=letter, country=code)
            EndorsementCountry.objects.filter(pk=row.pk).update(count=F("count") + added, listed=F("listed") + added)
    inserted = time.monotonic() - started
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"VACUUM ANALYZE {table}")
        else:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    letter.refresh_from_db()
    return {"inserted": count, "insert_seconds": round(inserted, 1), "verified_count": letter.verified_count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("prepare")
    bulk = sub.add_parser("letters")
    bulk.add_argument("--slug", required=True)
    bulk.add_argument("--count", type=int, required=True)
    endorse = sub.add_parser("endorsements")
    endorse.add_argument("--slug", required=True)
    endorse.add_argument("--count", type=int, required=True)
    args = parser.parse_args()
    if args.command == "prepare":
        result = prepare()
    elif args.command == "letters":
        result = letters(args.slug, args.count)
    else:
        result = endorsements(args.slug, args.count)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
