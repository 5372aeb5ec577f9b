"""Where the time of one endorsement goes: the endorse GET and POST and the open letter's
page in one process, profiled (profile_submit.py's way, for issue 4's requests).

    uv run python bench/profile_endorse.py [--count 200] [--profiler cprofile|none]
                                           [--what endorse|get|post|page] [--pg-url URL]

Sets up a throw-away SQLite database (or the PostgreSQL database given by --pg-url,
created and dropped), imports the demo campaigns and open letter, then drives Django's
test client like a browser (CSRF enforced): GET /open-letters/<slug>/endorse/, POST a
filled-in form, GET /open-letters/<slug>/. Prints the queries of each request, the mean
wall and CPU time per request, then a cProfile listing of --count requests.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from benchkit import PostgresDatabase, csrf_token, input_value
from profile_submit import HOST, _queries

DEMO = Path(__file__).resolve().parents[1] / "src" / "undersigned" / "demo"
WHAT = {"endorse": "endorsements (GET + POST)", "get": "endorse GETs", "post": "endorse POSTs", "page": "letter pages"}


def _setup(tmp: Path, database_url: str) -> str:
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
        UNDERSIGNED_RATE_LIMITS="endorse=1000000/m",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    for name in ("bus-to-every-trailhead.toml", "open-letter-trailheads.toml"):
        call_command("import_campaign", str(DEMO / name), verbosity=0)
    from datetime import timedelta

    from django.utils import timezone

    from undersigned.openletters.models import OpenLetter

    letter = OpenLetter.objects.get()
    OpenLetter.objects.filter(pk=letter.pk).update(deadline=timezone.now() + timedelta(days=365))
    return letter.slug


class Endorser:
    """One browser: a test client with CSRF checks on, endorsing again and again."""

    def __init__(self, slug: str) -> None:
        from django.test import Client

        self.client = Client(enforce_csrf_checks=True, HTTP_HOST=HOST)
        self.endorse = f"/open-letters/{slug}/endorse/"
        self.page = f"/open-letters/{slug}/"
        self.n = 0

    def get_form(self) -> str:
        response = self.client.get(self.endorse)
        assert response.status_code == 200, response.status_code
        return response.content.decode()

    def post(self, page: str) -> None:
        self.n += 1
        # Form-encoded, as browsers and bench/loadgen.py send it (the test client's default,
        # multipart, costs more to parse).
        response = self.client.post(
            self.endorse,
            content_type="application/x-www-form-urlencoded",
            data=urlencode(
                {
                    "csrfmiddlewaretoken": csrf_token(page),
                    "form_started": input_value(page, "form_started"),
                    "homepage": "",
                    "kind": "person",
                    "name": f"Profile Endorser {self.n}",
                    "role": "Trustee",
                    "organisation": "Wendmouth Walking Club",
                    "signatory": "",
                    "website": "",
                    "country": "IE",
                    "statement": "I walk these paths every week.",
                    "email": f"profile-{self.n}@example.net",
                    "show_publicly": "on",
                }
            ),
        )
        assert response.status_code == 302, (response.status_code, response.content[:300])
        assert response["Location"].endswith("/endorse/sent/"), response["Location"]

    def get_page(self) -> None:
        response = self.client.get(self.page)
        assert response.status_code == 200, response.status_code


def _timed(endorser: Endorser, count: int) -> None:
    totals = {"endorse GET": [0.0, 0.0], "endorse POST": [0.0, 0.0], "letter page GET": [0.0, 0.0]}

    def clock(what: str, call: Callable[[], Any]) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        result = call()
        totals[what][0] += time.perf_counter() - wall
        totals[what][1] += time.process_time() - cpu
        return result

    for _ in range(count):
        page = clock("endorse GET", endorser.get_form)
        clock("endorse POST", partial(endorser.post, page))
        clock("letter page GET", endorser.get_page)
    print(f"\nMean time per request over {count} endorsements (one process, no profiler):")
    for what, (wall, cpu) in totals.items():
        print(f"  {what:<18} wall {wall / count * 1000:6.2f} ms   CPU {cpu / count * 1000:6.2f} ms")


def _profile(endorser: Endorser, count: int, what: str, top: int) -> None:
    pages = [endorser.get_form() for _ in range(count)] if what == "post" else []

    def work() -> None:
        for i in range(count):
            if what == "endorse":
                endorser.post(endorser.get_form())
            elif what == "get":
                endorser.get_form()
            elif what == "post":
                endorser.post(pages[i])
            else:
                endorser.get_page()

    import cProfile
    import pstats

    print(f"\nProfile of {count} × {WHAT[what]}, CPU time:")
    with cProfile.Profile(time.process_time) as prof:
        work()
    stats = pstats.Stats(prof, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200, help="requests under the profiler")
    parser.add_argument("--profiler", choices=["cprofile", "none"], default="cprofile")
    parser.add_argument("--what", choices=list(WHAT), default="endorse", help="which requests to profile")
    parser.add_argument("--pg-url", help="profile on PostgreSQL: a database on 127.0.0.1 whose name contains 'bench'")
    parser.add_argument("--top", type=int, default=35, help="lines of the cProfile listing")
    args = parser.parse_args()
    if not 1 <= args.count <= 20_000:
        parser.error("--count must be 1–20000")
    with tempfile.TemporaryDirectory(prefix="undersigned-profile-") as tmp_name:
        tmp = Path(tmp_name)
        pg = PostgresDatabase(args.pg_url) if args.pg_url else None
        if pg is not None:
            pg.create()
        try:
            slug = _setup(tmp, args.pg_url or f"sqlite:///{tmp / 'profile.sqlite3'}")
            endorser = Endorser(slug)
            for _ in range(20):  # warm up: imports, template and URL caches, the connection
                endorser.post(endorser.get_form())
                endorser.get_page()
            print("Queries per request (a browser's second endorsement):")
            page = _queries("endorse GET", endorser.get_form)
            _queries("endorse POST", lambda: endorser.post(page))
            _queries("letter page GET", endorser.get_page)
            _timed(endorser, min(args.count, 200))
            if args.profiler != "none":
                _profile(endorser, args.count, args.what, args.top)
        finally:
            from django.db import connections

            connections.close_all()
            if pg is not None:
                pg.drop()


if __name__ == "__main__":
    main()
