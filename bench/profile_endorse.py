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
from pathlib import Path
from urllib.parse import urlencode

from benchkit import csrf_token, input_value
from request_profile import (
    HOST,
    Visit,
    cpu_profile,
    setup_django,
    throwaway_database,
    time_visits,
    warm_up_and_show_queries,
)

DEMO = Path(__file__).resolve().parents[1] / "src" / "undersigned" / "demo"
WHAT = {"endorse": "endorsements (GET + POST)", "get": "endorse GETs", "post": "endorse POSTs", "page": "letter pages"}


def _setup(tmp: Path, database_url: str) -> str:
    setup_django(tmp, database_url, rate_limits="endorse=1000000/m")
    from django.core.management import call_command

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

    cpu_profile(f"Profile of {count} × {WHAT[what]}", work, top)


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
    with throwaway_database(args.pg_url) as (tmp, database_url):
        endorser = Endorser(_setup(tmp, database_url))
        visit = Visit(
            form=("endorse GET", endorser.get_form),
            send=("endorse POST", endorser.post),
            page=("letter page GET", endorser.get_page),
        )
        warm_up_and_show_queries(visit, "endorsement")
        time_visits(visit, min(args.count, 200), "endorsements")
        if args.profiler != "none":
            _profile(endorser, args.count, args.what, args.top)


if __name__ == "__main__":
    main()
