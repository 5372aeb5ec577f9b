"""The ``undersigned`` command: one entry point for people, CI and deployment.

undersigned demo                 run everything on the embedded default (SQLite in ./var/)
undersigned serve                the web server (gunicorn + whitenoise), for production
undersigned worker               a task worker (sends email, builds print jobs)
undersigned import FILE          create or update a campaign or an open letter from a campaign file
undersigned export SLUG          write a campaign's or an open letter's file to standard output
undersigned print SLUG --out F   every letter chosen for post, as one print-ready PDF
undersigned <django command>     any of Django's management commands (migrate, …)
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

import django
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command, execute_from_command_line

ALIASES = {"import": "import_campaign", "export": "export_campaign", "print": "print_letters"}
CATALOGUE_COMMANDS = ("makemessages", "compilemessages")


def _django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "undersigned.settings")
    django.setup()


def _manage(argv: Sequence[str]) -> None:
    _django_setup()
    execute_from_command_line(["undersigned", *argv])


def _serve_command(bind: str, workers: int, max_requests: int = 5000, trusted_proxies: str = "") -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "undersigned.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--access-logfile",
        "-",
        "--access-logformat",
        "%(m)s %(s)s %(L)ss",  # no paths, no IPs
        "--max-requests",
        str(max_requests),
        "--max-requests-jitter",
        str(max_requests // 10),
        # gunicorn would believe X-Forwarded-Proto from 127.0.0.1 by default; only the
        # proxies in UNDERSIGNED_TRUSTED_PROXIES are believed (core/proxies.py).
        "--forwarded-allow-ips",
        trusted_proxies,
        # gunicorn >= 23 opens a control socket at one fixed path per user
        # (~/.gunicorn/gunicorn.ctl): two installations on one machine would share it,
        # and one's "gunicorn reload" would reach the other. Nothing here uses it.
        "--no-control-socket",
    ]


def serve(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="undersigned serve")
    # Defaults from UNDERSIGNED_BIND and UNDERSIGNED_WEB_WORKERS, checked by the settings.
    parser.add_argument("--bind")
    parser.add_argument("--workers", type=int)
    args = parser.parse_args(argv)
    _django_setup()  # fail here, with a clear message, on bad configuration
    from undersigned.core import static_build  # noqa: PLC0415 (needs the apps set up)

    static_build.ensure_built()  # hashed, compressed static files, once per release

    bind = args.bind or settings.WEB_BIND
    workers = args.workers or settings.WEB_WORKERS or 2 * (os.cpu_count() or 1)
    trusted = ",".join(str(network) for network in settings.TRUSTED_PROXIES)
    # exec, not a child: SIGTERM from a supervisor reaches gunicorn's master itself,
    # which stops its workers; no process of ours is left in between to orphan them.
    os.execv(sys.executable, _serve_command(bind, workers, settings.WEB_MAX_REQUESTS, trusted))  # noqa: S606 (replace this process by gunicorn)


def worker(argv: Sequence[str]) -> None:
    _manage(["run_worker", *argv])


def demo(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser(prog="undersigned demo")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-serve", action="store_true", help="set up the database and demo data, then exit")
    args = parser.parse_args(argv)
    os.environ["UNDERSIGNED_DEMO"] = "1"
    os.environ.setdefault("UNDERSIGNED_BASE_URL", f"http://127.0.0.1:{args.port}")
    _django_setup()
    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    # What a command run beside the demo needs to act on its data and print its links
    # (settings.DEMO_RECORD): the key is already in var/, the address is here.
    settings.DEMO_RECORD.write_text(json.dumps({"base_url": settings.BASE_URL}) + "\n", encoding="utf-8")
    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_demo")
    from undersigned.core import static_build  # noqa: PLC0415 (needs the apps set up)

    static_build.ensure_built()
    if args.no_serve:
        return
    env = dict(os.environ)
    processes = [
        subprocess.Popen(_serve_command(f"127.0.0.1:{args.port}", 2), env=env),
        subprocess.Popen([sys.executable, "-m", "undersigned.cli", "worker"], env=env),
    ]
    print(f"\nUndersigned is running at http://127.0.0.1:{args.port}/  (Ctrl-C stops it)\n", flush=True)

    def stop(*_: object) -> None:
        for process in processes:
            if process.poll() is None:
                process.terminate()

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(p.poll() is None for p in processes):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(__doc__)
        return
    try:
        _run(args[0], args[1:])
    except ImproperlyConfigured as exc:
        # A bad environment variable: say which, without a traceback.
        print(f"undersigned: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)


def _run(command: str, rest: list[str]) -> None:
    if command == "demo":
        demo(rest)
    elif command == "serve":
        serve(rest)
    elif command == "worker":
        worker(rest)
    else:
        if command in CATALOGUE_COMMANDS:
            # They read templates and code and write catalogues: nothing is signed, so a
            # translator needs no secret key of a deployment (README "Languages").
            os.environ.setdefault("UNDERSIGNED_SECRET_KEY", secrets.token_urlsafe(50))
            # No database either: without this the default SQLite would make ./var/ in
            # the package folder they run in, and makemessages would then read it.
            os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")
        _manage([ALIASES.get(command, command), *rest])


if __name__ == "__main__":
    main()
