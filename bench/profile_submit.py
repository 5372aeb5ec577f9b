"""Where the time of one letter goes: the composer GET and POST in one process, profiled.

    uv run python bench/profile_submit.py [--count 200] [--profiler cprofile|pyinstrument|none]
    uv run --with pyinstrument python bench/profile_submit.py --profiler pyinstrument [--what get|post|page]

Sets up a throw-away SQLite database in a temporary directory (or the PostgreSQL
database given by --pg-url, created and dropped), imports the demo campaign, then drives
Django's test client like a browser (CSRF enforced): GET /c/<slug>/write/, POST the
letter with action=continue, and GET /c/<slug>/. It prints the queries each request
makes, the mean wall time per request without a profiler, then a profile of --count
submits. No server, no network: this is the cost inside Django, per request.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from benchkit import csrf_token, demo_campaign_file, input_value, textarea_value
from request_profile import (
    HOST,
    Visit,
    cpu_profile,
    setup_django,
    throwaway_database,
    time_visits,
    warm_up_and_show_queries,
)

WHAT = {
    "submit": "letters (composer GET + POST)",
    "get": "composer GETs",
    "post": "composer POSTs",
    "page": "campaign page GETs",
}


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=200, help="letters submitted under the profiler")
    parser.add_argument("--profiler", choices=["cprofile", "pyinstrument", "none"], default="cprofile")
    parser.add_argument("--what", choices=list(WHAT), default="submit", help="which requests to profile")
    parser.add_argument("--pg-url", help="profile on PostgreSQL: a database on 127.0.0.1 whose name contains 'bench'")
    parser.add_argument("--top", type=int, default=35, help="lines of the cProfile listing")
    args = parser.parse_args()
    if not 1 <= args.count <= 20_000:
        parser.error("--count must be 1–20000")
    return args


def _setup(tmp: Path, database_url: str) -> str:
    setup_django(tmp, database_url, rate_limits="compose=1000000/m")
    from django.core.management import call_command

    campaign_file = demo_campaign_file()
    if campaign_file is None:
        raise SystemExit("this version ships no demo campaign file; nothing to profile")
    call_command("import_campaign", str(campaign_file), verbosity=0)
    from undersigned.campaigns.models import Campaign

    campaign = Campaign.objects.get()
    return campaign.slug


class Supporter:
    """One browser: a test client with CSRF checks on, writing letter after letter."""

    def __init__(self, slug: str) -> None:
        from django.test import Client

        self.client = Client(enforce_csrf_checks=True, HTTP_HOST=HOST)
        self.compose = f"/c/{slug}/write/"
        self.page = f"/c/{slug}/"
        self.n = 0

    def get_composer(self) -> str:
        response = self.client.get(self.compose)
        assert response.status_code == 200, response.status_code
        return response.content.decode()

    def post_letter(self, page: str) -> None:
        self.n += 1
        body = textarea_value(page, "body") + f"\n\nI walk to school along the path every day. (Letter {self.n}.)"
        response = self.client.post(
            self.compose,
            {
                "csrfmiddlewaretoken": csrf_token(page),
                "submission_key": input_value(page, "submission_key"),
                "name": f"Profile Supporter {self.n}",
                "email": f"profile-{self.n}@example.net",
                "town": "Wendmouth",
                "country": "GB",
                "postal_address": "",
                "subject": input_value(page, "subject"),
                "body": body.replace("\n", "\r\n"),
                "homepage": "",
                "form_started": input_value(page, "form_started"),
                "action": "continue",
            },
        )
        assert response.status_code == 302, (response.status_code, response.content[:300])
        assert response["Location"].startswith("/l/"), response["Location"]

    def get_campaign_page(self) -> None:
        response = self.client.get(self.page)
        assert response.status_code == 200, response.status_code


def _pieces(slug: str, rounds: int = 200) -> None:
    """CPU time of the parts that the profiles show to be large, each on its own."""
    from undersigned.campaigns import queries
    from undersigned.core.countries import codes
    from undersigned.core.sanitising import markdown_to_html
    from undersigned.letters.uniqueness import own_words_percent
    from undersigned.public.forms import ComposerForm

    campaign = queries.campaign_for_page(slug)
    assert campaign is not None
    form = ComposerForm(
        initial={"subject": campaign.template.subject, "body": campaign.template.body}, campaign=campaign
    )
    body = campaign.template.body + "\n\nI walk to school along the path every day."
    parts: dict[str, Callable[[], object]] = {
        "campaign_for_page() query": lambda: queries.campaign_for_page(slug),
        "campaign_recipients() query": lambda: queries.campaign_recipients(campaign),
        "markdown_to_html(background)": lambda: markdown_to_html(campaign.background),
        "country codes (cached)": codes,
        "ComposerForm(...) construct": lambda: ComposerForm(initial={}, campaign=campaign),
        "render the country <select>": lambda: str(form["country"]),
        "render the body <textarea>": lambda: str(form["body"]),
        "own_words_percent(letter)": lambda: own_words_percent(body, campaign.template.body),
    }
    print(f"\nCPU time of single parts (mean of {rounds} calls):")
    for name, call in parts.items():
        call()
        started = time.process_time()
        for _ in range(rounds):
            call()
        print(f"  {name:<32} {(time.process_time() - started) / rounds * 1000:7.3f} ms")


def _visit(supporter: Supporter) -> Visit:
    return Visit(
        form=("composer GET", supporter.get_composer),
        send=("composer POST", supporter.post_letter),
        page=("campaign page GET", supporter.get_campaign_page),
    )


def _profile(supporter: Supporter, count: int, what: str, profiler: str, top: int) -> None:
    pages: list[str] = []
    if what == "post":
        pages = [supporter.get_composer() for _ in range(count)]  # fetched before the profiler starts

    def work() -> None:
        for i in range(count):
            if what == "submit":
                supporter.post_letter(supporter.get_composer())
            elif what == "get":
                supporter.get_composer()
            elif what == "post":
                supporter.post_letter(pages[i])
            else:
                supporter.get_campaign_page()

    if profiler == "pyinstrument":
        print(f"\nProfile of {count} × {WHAT[what]}, pyinstrument:")
        try:
            from pyinstrument import Profiler  # type: ignore[import-not-found]  # optional: uv run --with pyinstrument
        except ImportError:
            raise SystemExit("pyinstrument is not installed: uv run --with pyinstrument python bench/…") from None
        prof = Profiler(interval=0.0005)
        prof.start()
        work()
        prof.stop()
        print(prof.output_text(unicode=True, color=False, show_all=False))
        return
    cpu_profile(f"Profile of {count} × {WHAT[what]}", work, top)


def main() -> None:
    args = _parse_args()
    with throwaway_database(args.pg_url) as (tmp, database_url):
        slug = _setup(tmp, database_url)
        supporter = Supporter(slug)
        warm_up_and_show_queries(_visit(supporter), "letter")
        time_visits(_visit(supporter), min(args.count, 200), "letters")
        _pieces(slug)
        if args.profiler != "none":
            _profile(supporter, args.count, args.what, args.profiler, args.top)


if __name__ == "__main__":
    main()
