"""What a discussion costs the pages that show it, as it grows.

    uv run python bench/discussion.py [--comments 0,1000,100000] [--requests 300]
    uv run python bench/discussion.py --pg-url postgres://postgres@127.0.0.1:5432/undersigned_disc_bench

One process, Django's test client, no server: a throw-away SQLite database (or the
PostgreSQL database given by --pg-url, created and dropped), the demo campaign, then for
each size of discussion (comments bulk-inserted between sizes: threads of 1–12 comments,
replies up to 8 deep) the queries and the CPU time per request of the campaign page
(which shows the discussion's teaser), the comments fragment it loads with htmx (a page
of 20 threads), and the full discussion page with its form.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from benchkit import PostgresDatabase, demo_campaign_file

PAGES = ("campaign page", "comments fragment", "discussion page")


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--comments", default="0,1000,100000", help="discussion sizes, comma-separated, rising")
    parser.add_argument("--requests", type=int, default=300, help="requests timed per page and size")
    parser.add_argument("--pg-url", help="a PostgreSQL database on 127.0.0.1 whose name contains 'bench'")
    args = parser.parse_args()
    sizes = [int(s) for s in args.comments.split(",")]
    if sizes != sorted(sizes) or sizes[0] < 0 or sizes[-1] > 2_000_000:
        parser.error("--comments must rise, from 0 to at most 2000000")
    if not 1 <= args.requests <= 100_000:
        parser.error("--requests must be 1–100000")
    args.sizes = sizes
    return args


def _setup(tmp: Path, database_url: str) -> int:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="undersigned.settings",
        DATABASE_URL=database_url,
        UNDERSIGNED_SECRET_KEY="bench-discussion-" + "x" * 40,
        UNDERSIGNED_VAR_DIR=str(tmp / "var"),
        UNDERSIGNED_BASE_URL="http://127.0.0.1:8000",
        UNDERSIGNED_CACHE_URL="locmem://",
        UNDERSIGNED_LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    campaign_file = demo_campaign_file()
    if campaign_file is None:
        raise SystemExit("this version ships no demo campaign file")
    call_command("import_campaign", str(campaign_file), verbosity=0)
    from undersigned.campaigns.models import Campaign
    from undersigned.discussion.services import discussion_for

    return discussion_for(Campaign.objects.get()).pk


def _grow(discussion_id: int, target: int, rng: random.Random) -> None:
    """Bulk-insert published comments until the discussion has ``target``.

    Threads of 1–12 comments; each reply answers a random earlier comment of its thread,
    up to 8 deep. Inserted a depth at a time across a batch of threads (bulk_create gives
    each row its primary key, which the next depth's rows point to).
    """
    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone

    from undersigned.core.sanitising import comment_to_html
    from undersigned.discussion.models import Comment, CommentStatus, Discussion

    have = Comment.objects.filter(discussion_id=discussion_id).count()
    body = "The path floods every winter; I would *rather* see it repaired than closed. [Photos](https://example.org/p)"
    html = comment_to_html(body)
    now = timezone.now()

    def comment(depth: int) -> Comment:
        return Comment(
            discussion_id=discussion_id, depth=depth, author_name="Ana Ruiz" if depth % 2 == 0 else "Ben Okoro",
            email="ana@example.org", email_key="ana@example.org", body=body, body_html=html,
            status=CommentStatus.PUBLISHED, submission_key=uuid.uuid4(), published_at=now,
        )  # fmt: skip

    while have < target:
        threads: list[list[tuple[int, Comment]]] = []  # per thread: (parent index, comment); index 0 is the root
        batch = 0
        while batch < 5_000 and have + batch < target:
            size = min(rng.randint(1, 12), target - have - batch)
            thread = [(-1, comment(0))]
            for _ in range(size - 1):
                parent = rng.randrange(len(thread))
                if thread[parent][1].depth >= 8:
                    parent = 0
                thread.append((parent, comment(thread[parent][1].depth + 1)))
            threads.append(thread)
            batch += size
        with transaction.atomic():
            for depth in range(9):
                rows = []
                for thread in threads:
                    for parent_index, row in thread:
                        if row.depth != depth:
                            continue
                        if parent_index >= 0:
                            row.parent = thread[parent_index][1]
                            row.thread_root = thread[0][1]
                        rows.append(row)
                Comment.objects.bulk_create(rows, batch_size=500)
            Discussion.objects.filter(pk=discussion_id).update(comment_count=F("comment_count") + batch)
        have += batch


def _measure(get: Callable[[], int], requests: int) -> tuple[int, float]:
    from django.db import connection

    for _ in range(10):
        get()
    # Counted with an execute wrapper: each request's start resets connection.queries.
    executed: list[str] = []

    def count(execute: Callable[..., object], sql: str, *rest: object) -> object:
        executed.append(sql)
        return execute(sql, *rest)

    with connection.execute_wrapper(count):
        get()
    started = time.process_time()
    for _ in range(requests):
        get()
    return len(executed), (time.process_time() - started) / requests * 1000


def main() -> None:
    args = _parse_args()
    with tempfile.TemporaryDirectory(prefix="undersigned-bench-discussion-") as directory:
        tmp = Path(directory)
        pg = PostgresDatabase(args.pg_url) if args.pg_url else None
        if pg is not None:
            pg.create()
        try:
            discussion_id = _setup(tmp, args.pg_url or f"sqlite:///{tmp / 'bench.sqlite3'}")
            from django.test import Client

            from undersigned.campaigns.models import Campaign

            slug = Campaign.objects.get().slug
            client = Client(HTTP_HOST="127.0.0.1")
            urls = {
                "campaign page": f"/c/{slug}/",
                "comments fragment": f"/d/{discussion_id}/comments/",
                "discussion page": f"/d/{discussion_id}/",
            }

            def getter(url: str) -> Callable[[], int]:
                def get() -> int:
                    response = client.get(url)
                    if response.status_code != 200:
                        raise SystemExit(f"{url} answered {response.status_code}")
                    return len(response.content)

                return get

            rng = random.Random(7)
            print(f"database: {'PostgreSQL' if pg else 'SQLite'}; {args.requests} requests per figure; CPU ms/request")
            print(f"{'comments':>9} | " + " | ".join(f"{page:>28}" for page in PAGES))
            for size in args.sizes:
                _grow(discussion_id, size, rng)
                cells = []
                for page in PAGES:
                    queries, cpu = _measure(getter(urls[page]), args.requests)
                    cells.append(f"{queries:>2} queries, {cpu:6.2f} ms CPU")
                print(f"{size:>9} | " + " | ".join(f"{cell:>28}" for cell in cells), flush=True)
        finally:
            if pg is not None:
                from django.db import connections

                connections.close_all()
                pg.drop()


if __name__ == "__main__":
    main()
