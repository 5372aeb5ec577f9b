"""Where a web worker's memory goes (issue 13: under 80 MB per worker, every catalogue loaded).

    uv run python bench/web_memory.py                  # SQLite in a temporary folder, as letters.py
    uv run python bench/web_memory.py --pg-url postgres://postgres@127.0.0.1:5432/undersigned_bench_web_memory
    uv run python bench/web_memory.py --top 40 --modules   # longer listings, and every module's name

This process migrates a throw-away database and imports the demo campaigns and open
letter (``src/undersigned/demo``). Then a fresh process, as a gunicorn sync worker is,
builds ``undersigned.wsgi.application`` (no ``django.test``, no server) and serves every
public page a first-time visitor can reach (home, a campaign page, its composer, the
open letters, an open letter, its endorsement form and versions, "my data", sign-in) in
each language of ``settings.LANGUAGES``, and prints:

1. ``VmRSS`` after each step, and at the end ``/proc/self/smaps_rollup`` (what is
   anonymous, what is mapped from files: the interpreter, C extensions).
2. The modules it imported (how many, by top-level package), and which of the modules a
   page never needs are among them (``UNNEEDED``).

A second fresh process does the same under ``tracemalloc`` (which costs memory of its own,
so its RSS is not quoted) and prints:

3. The Python memory each package's imports left allocated, summed over its modules'
   own import (code, functions, classes, module-level data; a module's imports of other
   modules are counted to those), from an import hook that reads the traced total
   around each module's execution.
4. What the process allocated after its imports, grouped by the file that allocated it
   (catalogues are allocated by ``gettext.py``; compiled templates by Django's template
   modules; caches by whoever fills them).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
HOST = "127.0.0.1"

# Modules a worker serving pages never needs; any of them in sys.modules after the pages
# is worth a look (some may be imported by Django or allauth themselves).
UNNEEDED = (
    "typst",
    "undersigned.delivery.pdf",
    "undersigned.delivery.engine",
    "undersigned.openletters.handin",
    "undersigned.dashboard.views",
    "tomlkit",
    "pygal",
    "fido2",
    "cryptography",
    "dkim",
    "dns",
    "pypdf",
    "pikepdf",
    "PIL",
    "allauth.socialaccount.providers",
    "django.contrib.admin",
    "django.test",
    "asyncio",
    "email.mime",
    "smtplib",
    "xml",
    "zipfile",
    "csv",
    "sqlite3",
    "psycopg",
)


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status (not Linux?)")


def _report(step: str) -> None:
    print(f"  {step:<44} {_status_mb('VmRSS'):6.1f} MB RSS  {len(sys.modules):5} modules", flush=True)


def _package(name: str) -> str:
    """A module's package for grouping: the project's apps and Django's contrib apps one level deeper."""
    parts = name.split(".")
    if parts[0] in ("undersigned", "allauth") or parts[:2] == ["django", "contrib"]:
        return ".".join(parts[: 3 if parts[:2] == ["django", "contrib"] else 2])
    return parts[0]


class _ImportMeter:
    """An import hook: the traced Python memory each module's own execution left behind."""

    def __init__(self) -> None:
        self.own: dict[str, int] = defaultdict(int)
        self._stack: list[list[int]] = []

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module") or isinstance(loader, _Wrapped):
            return spec
        spec.loader = _Wrapped(loader, name, self)  # type: ignore[assignment]
        return spec


class _Wrapped:
    def __init__(self, loader: Any, name: str, meter: _ImportMeter) -> None:
        self._loader, self._name, self._meter = loader, name, meter

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._loader, attribute)

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        import tracemalloc

        # The loader the module's spec names stays the real one (importlib.resources reads it).
        module.__spec__.loader = self._loader
        module.__loader__ = self._loader
        before = tracemalloc.get_traced_memory()[0]
        frame = [0]
        self._meter._stack.append(frame)
        try:
            self._loader.exec_module(module)
        finally:
            self._meter._stack.pop()
            total = tracemalloc.get_traced_memory()[0] - before
            self._meter.own[self._name] += total - frame[0]
            if self._meter._stack:
                self._meter._stack[-1][0] += total


def _get(application: Any, path: str, language: str) -> int:
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
        "HTTP_ACCEPT_LANGUAGE": language,
    }
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
    return int(statuses[0].split()[0])


def _serve_everything(paths: list[str], *, report: bool) -> Any:
    if report:
        _report("Python started")
    from undersigned.wsgi import application  # what gunicorn imports: Django set up, the app built

    if report:
        _report("undersigned.wsgi imported")
    from django.conf import settings

    for n, (code, _name) in enumerate(settings.LANGUAGES):
        for path in paths:
            status = _get(application, path, code)
            if status != 200:
                raise SystemExit(f"{path} in {code}: {status}")
        if report:
            _report(f"every public page in {code}" if n == 0 else f"… and in {code}")
    return application


def worker(paths: list[str], *, top: int, list_modules: bool) -> None:
    """In a fresh process: RSS, smaps_rollup and the modules after every page in every language."""
    _serve_everything(paths, report=True)
    from undersigned.core import kept_pages

    pages = list(kept_pages._kept_pages.values())
    print(
        f"\nkept pages: {len(pages)} of at most {kept_pages.PAGES_KEPT}, "
        f"{sum(sys.getsizeof(p) for p in pages) / 2**20:.2f} MB held, "
        f"{sum(len(p if isinstance(p, bytes) else p.encode()) for p in pages) / 2**20:.2f} MB as UTF-8, "
        f"the largest {max((sys.getsizeof(p) for p in pages), default=0) / 1024:.0f} KB"
    )
    print("\n/proc/self/smaps_rollup:")
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":", 1)
        if key in ("Rss", "Pss", "Shared_Clean", "Private_Clean", "Private_Dirty", "Anonymous", "Swap"):
            print(f"  {key:<14} {int(value.split()[0]) / 1024:7.1f} MB")
    mapped: dict[str, int] = defaultdict(int)
    current = ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and len(fields[0]) > 8 and ":" not in fields[0]:
            current = fields[5] if len(fields) > 5 else "[anonymous]"
        elif fields and fields[0] == "Rss:":
            mapped[current] += int(fields[1])
    print(f"\nresident by mapping (top {top}):")
    for name, kb in sorted(mapped.items(), key=lambda item: -item[1])[:top]:
        print(f"  {kb / 1024:7.1f} MB  {name if len(name) < 90 else '…' + name[-89:]}")
    packages: dict[str, int] = defaultdict(int)
    for name in sys.modules:
        packages[_package(name)] += 1
    print(f"\n{len(sys.modules)} modules; the largest packages by modules (top {top}):")
    for name, count in sorted(packages.items(), key=lambda item: -item[1])[:top]:
        print(f"  {count:5}  {name}")
    loaded = [name for name in UNNEEDED if name in sys.modules]
    print(f"\nmodules a page does not need, imported: {', '.join(loaded) or 'none'}")
    if list_modules:
        print("\nevery module:")
        for name in sorted(sys.modules):
            print(f"  {name}")


def traced_worker(paths: list[str], *, top: int) -> None:
    """In a fresh process under tracemalloc: Python memory by package imported, then by allocating file."""
    import tracemalloc

    meter = _ImportMeter()
    sys.meta_path.insert(0, meter)
    tracemalloc.start(1)
    _serve_everything(paths[:0], report=False)  # the imports of start-up
    sys.meta_path.remove(meter)
    startup = dict(meter.own)
    sys.meta_path.insert(0, meter)
    after_startup = tracemalloc.take_snapshot()
    _serve_everything(paths, report=False)
    sys.meta_path.remove(meter)
    snapshot = tracemalloc.take_snapshot()
    traced, _peak = tracemalloc.get_traced_memory()
    by_package: dict[str, int] = defaultdict(int)
    for name, size in meter.own.items():
        by_package[_package(name)] += size
    total = sum(meter.own.values())
    print(f"\ntraced Python memory: {traced / 2**20:.1f} MB, of which left by imports {total / 2**20:.1f} MB")
    print(
        f"  (start-up imports {sum(startup.values()) / 2**20:.1f} MB; "
        f"imports during the pages {(total - sum(startup.values())) / 2**20:.1f} MB)"
    )
    print(f"left by imports, by package (top {top}):")
    for name, size in sorted(by_package.items(), key=lambda item: -item[1])[:top]:
        print(f"  {size / 2**20:6.2f} MB  {name}")
    print(f"\nthe largest modules by what their own import left (top {top}):")
    for name, size in sorted(meter.own.items(), key=lambda item: -item[1])[:top]:
        print(f"  {size / 2**20:6.2f} MB  {name}")
    during: dict[str, int] = defaultdict(int)
    for name, size in meter.own.items():
        if name not in startup:
            during[_package(name)] += size
    print(f"\nimports during the pages (the URLconf, the views), by package (top {top}):")
    for name, size in sorted(during.items(), key=lambda item: -item[1])[:top]:
        print(f"  {size / 2**20:6.2f} MB  {name}")
    print(f"\nallocated while serving the pages, still held, by allocating file (top {top}):")
    stats = snapshot.compare_to(after_startup, "filename")
    for stat in stats[:top]:
        frame = stat.traceback[0]
        name = frame.filename
        for marker in ("site-packages/", "src/", "lib/python3"):
            if marker in name:
                name = name.split(marker, 1)[1]
                break
        print(f"  {stat.size_diff / 2**20:6.2f} MB  {stat.count_diff:8} blocks  {name}")


def _paths(open_letter_slug: str, campaign_slug: str) -> list[str]:
    from django.urls import reverse

    return [
        reverse("public:home"),
        reverse("public:campaign", args=[campaign_slug]),
        reverse("public:compose", args=[campaign_slug]),
        reverse("openletters:index"),
        reverse("openletters:letter", args=[open_letter_slug]),
        reverse("openletters:endorse", args=[open_letter_slug]),
        reverse("openletters:versions", args=[open_letter_slug]),
        reverse("public:my_data"),
        reverse("account_login"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg-url", help="a PostgreSQL URL whose database name contains 'bench' (default: SQLite)")
    parser.add_argument("--top", type=int, default=25, help="rows in each listing")
    parser.add_argument("--modules", action="store_true", help="also list every module the worker imported")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        if args.traced:
            traced_worker(args.worker, top=args.top)
        else:
            worker(args.worker, top=args.top, list_modules=args.modules)
        return

    sys.path.insert(0, str(BENCH_DIR))
    from request_profile import setup_django, throwaway_database

    with throwaway_database(args.pg_url) as (tmp, database_url):
        setup_django(tmp, database_url, rate_limits="")
        from django.core.management import call_command
        from django.db import connections

        import undersigned

        demo = Path(str(undersigned.__file__)).resolve().parent / "demo"
        for name in ("riverside-path.toml", "bus-to-every-trailhead.toml", "open-letter-trailheads.toml"):
            call_command("import_campaign", str(demo / name), verbosity=0)
        campaign = tomllib.loads((demo / "riverside-path.toml").read_text())["campaign"]["slug"]
        letter_file = tomllib.loads((demo / "open-letter-trailheads.toml").read_text())
        letter = str(letter_file["open_letter"]["slug"])
        paths = _paths(letter, campaign)
        connections.close_all()
        env = os.environ.copy()
        base = [sys.executable, __file__, "--top", str(args.top), "--worker", *paths]
        print(f"a fresh worker, every page below in {len(paths)} paths × each language:", flush=True)
        for path in paths:
            print(f"  {path}")
        subprocess.run([*base, *(["--modules"] if args.modules else [])], check=True, env=env)
        print("\nthe same in a fresh worker under tracemalloc:", flush=True)
        subprocess.run([*base, "--traced"], check=True, env=env)


if __name__ == "__main__":
    main()
