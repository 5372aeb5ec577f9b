"""A web worker's memory, step by step (issue 13, "Speed": under 80 MB per worker).

    uv run python bench/worker_memory.py --pg-url postgres://postgres@127.0.0.1:5432/undersigned_bench_memory

This process builds an empty live campaign and a published open letter on a throw-away
PostgreSQL database (``results_scale``'s builders) and a signed-in operator's session.
Then a fresh process, as a web worker is, serves through ``get_wsgi_application()``
without ``django.test`` and prints its resident memory (``VmRSS``, and the peak
``VmHWM``) after each step: Django set up, the WSGI application built, the URLconf
resolved, the public campaign page, its composer, the open letter page, and last the
campaign's results page for the operator, then the same pages in each other language of
``settings.LANGUAGES`` (loading its catalogues). After each step it says which of the heavy
libraries (tomlkit, pygal, fido2, markdown-it) the process has imported so far.

Each run is one process on a shared machine, so the figures move by about 1 MB between
runs; ``--repeat`` runs the worker that many times.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HEAVY = ("tomlkit", "pygal", "fido2", "markdown_it")
HOST = "127.0.0.1"


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status (not Linux?)")


def _report(step: str) -> None:
    loaded = ", ".join(name for name in HEAVY if name in sys.modules) or "none"
    print(
        f"{step:<42} {_status_mb('VmRSS'):6.1f} MB RSS {_status_mb('VmHWM'):6.1f} MB peak   heavy: {loaded}",
        flush=True,
    )


def worker(paths: list[str], results_path: str, session_cookie: str) -> None:
    """In its own process: what a web worker does, with its memory after each step."""
    _report("Python started")
    import django

    django.setup()
    _report("django.setup()")
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    _report("get_wsgi_application()")
    from django.urls import get_resolver

    get_resolver().resolve(paths[0])  # what a worker's first request does: the URLconf loaded
    _report("URLconf resolved")

    def get(path: str, cookie: str = "", language: str = "") -> None:
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": HOST,
            "SERVER_PORT": "8000",
            "HTTP_HOST": HOST,
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0),
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }
        if cookie:
            environ["HTTP_COOKIE"] = cookie
        if language:
            environ["HTTP_ACCEPT_LANGUAGE"] = language
        statuses: list[str] = []

        def start_response(status: str, headers: Any, exc_info: Any = None) -> Any:
            statuses.append(status)
            return lambda data: None

        body = application(environ, start_response)
        try:
            for _chunk in body:
                pass
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        if not statuses[0].startswith("200"):
            raise SystemExit(f"{path}: {statuses[0]}")

    for path in paths:
        get(path)
        _report(f"GET {path}")
    get(results_path, session_cookie)
    _report("GET results page (operator)")
    # Every other language of the interface: its catalogues (ours, Django's, its apps')
    # are loaded on the first request in it and kept by the process.
    from django.conf import settings

    for code, _name in settings.LANGUAGES[1:]:
        for path in paths:
            get(path, language=code)
        get(results_path, session_cookie, language=code)
        _report(f"the same pages in {code}")


def _session_cookie() -> str:
    """A signed-in operator's session cookie, as a browser would send it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    user_model = get_user_model()
    user = user_model.objects.filter(username="bench-operator").first() or user_model.objects.create_superuser(
        "bench-operator", "bench@example.net", "x" * 20
    )
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", required=True, help="a PostgreSQL URL whose database name contains 'bench'")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--results", help=argparse.SUPPRESS)
    parser.add_argument("--cookie", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.results, args.cookie)
        return

    from request_profile import setup_django, throwaway_database
    from results_scale import build_campaign, build_open_letter

    with throwaway_database(args.pg_url) as (tmp, database_url):
        setup_django(tmp, database_url, rate_limits="")
        from django.db import connections
        from django.urls import reverse

        campaign = build_campaign("bench-memory-campaign", 0)
        letter = build_open_letter("bench-memory-letter", 0)
        paths = [
            reverse("public:campaign", args=[campaign.slug]),
            reverse("public:compose", args=[campaign.slug]),
            reverse("openletters:letter", args=[letter.slug]),
        ]
        results = reverse("dashboard:campaign_results", args=[campaign.slug])
        cookie = _session_cookie()
        connections.close_all()
        for run in range(args.repeat):
            print(f"worker {run + 1} of {args.repeat}", flush=True)
            command = [sys.executable, __file__, "--pg-url", args.pg_url, "--worker", *paths]
            subprocess.run([*command, "--results", results, "--cookie", cookie], check=True, env=os.environ.copy())


if __name__ == "__main__":
    main()
