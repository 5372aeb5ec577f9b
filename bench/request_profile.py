"""What profile_submit.py and profile_endorse.py share: Django in this process on a
throw-away database, requests driven by the test client, their queries listed, their mean
time measured and many of them profiled.

No server, no network: the cost inside Django, per request.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from benchkit import PostgresDatabase

HOST = "127.0.0.1"


@contextmanager
def throwaway_database(pg_url: str | None) -> Iterator[tuple[Path, str]]:
    """A temporary folder and a database URL: SQLite in the folder, or ``pg_url`` created
    here and dropped at the end (its name must contain 'bench')."""
    with tempfile.TemporaryDirectory(prefix="undersigned-profile-") as tmp_name:
        tmp = Path(tmp_name)
        pg = PostgresDatabase(pg_url) if pg_url else None
        if pg is not None:
            pg.create()
        try:
            yield tmp, pg_url or f"sqlite:///{tmp / 'profile.sqlite3'}"
        finally:
            if "django" in sys.modules:
                from django.db import connections

                connections.close_all()
            if pg is not None:
                pg.drop()


def setup_django(tmp: Path, database_url: str, *, rate_limits: str) -> None:
    """Django in this process, migrated, with every check of the abuse layer on.

    One process sending request after request is not a person, so the minimum fill time
    is 0 and the given rate limits (e.g. ``compose=1000000/m``) are set out of reach.
    """
    os.environ.update(
        DJANGO_SETTINGS_MODULE="undersigned.settings",
        DATABASE_URL=database_url,
        UNDERSIGNED_SECRET_KEY="bench-profile-" + "x" * 40,
        UNDERSIGNED_VAR_DIR=str(tmp / "var"),
        UNDERSIGNED_BASE_URL=f"http://{HOST}:8000",
        UNDERSIGNED_CACHE_URL="db://",
        UNDERSIGNED_DEBUG="0",
        UNDERSIGNED_LOG_LEVEL="WARNING",
        UNDERSIGNED_FORM_MIN_FILL_SECONDS="0",
        UNDERSIGNED_RATE_LIMITS=rate_limits,
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)


def show_queries(what: str, call: Callable[[], Any]) -> Any:
    """Run ``call`` and print the queries it made; return what it returned."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        result = call()
    kinds = Counter(q["sql"].split(None, 1)[0].upper() for q in captured.captured_queries)
    print(f"  {what:<22} {len(captured.captured_queries):>2} queries  {dict(kinds)}")
    for q in captured.captured_queries:
        print(f"      {q['sql'][:150]}")
    return result


@dataclass
class Visit:
    """A person's round: fetch the form, send it, look at the page it belongs to."""

    form: tuple[str, Callable[[], str]]  # (label, fetch the form's page)
    send: tuple[str, Callable[[str], None]]  # (label, post what the form's page holds)
    page: tuple[str, Callable[[], None]]  # (label, fetch the page)


def warm_up_and_show_queries(visit: Visit, noun: str) -> None:
    """20 rounds to warm up (imports, template and URL caches, the connection), then the
    queries of each request of the next round: a browser's second visit."""
    for _ in range(20):
        visit.send[1](visit.form[1]())
        visit.page[1]()
    print(f"Queries per request (a browser's second {noun}):")
    page = show_queries(visit.form[0], visit.form[1])
    show_queries(visit.send[0], partial(visit.send[1], page))
    show_queries(visit.page[0], visit.page[1])


def time_visits(visit: Visit, count: int, noun: str) -> None:
    """Mean wall and CPU time of each request over ``count`` rounds (CPU counts on a busy machine)."""
    totals: dict[str, list[float]] = {visit.form[0]: [0.0, 0.0], visit.send[0]: [0.0, 0.0], visit.page[0]: [0.0, 0.0]}

    def clock(what: str, call: Callable[[], Any]) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        result = call()
        totals[what][0] += time.perf_counter() - wall
        totals[what][1] += time.process_time() - cpu
        return result

    for _ in range(count):
        page = clock(visit.form[0], visit.form[1])
        clock(visit.send[0], partial(visit.send[1], page))
        clock(visit.page[0], visit.page[1])
    print(f"\nMean time per request over {count} {noun} (one process, no profiler):")
    for what, (wall, cpu) in totals.items():
        print(f"  {what:<18} wall {wall / count * 1000:6.2f} ms   CPU {cpu / count * 1000:6.2f} ms")


def cpu_profile(title: str, work: Callable[[], None], top: int) -> None:
    """cProfile of ``work`` in CPU time, by cumulative and by own time.

    CPU time, not wall time: waiting for the database (or for other work on a shared
    machine) would otherwise fill the listing.
    """
    import cProfile
    import pstats

    print(f"\n{title}, CPU time:")
    with cProfile.Profile(time.process_time) as prof:
        work()
    stats = pstats.Stats(prof, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
