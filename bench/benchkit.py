"""Helpers shared by the bench scripts: paths, environments, throw-away databases, HTML fields.

Nothing here imports Django, so the orchestrating script can configure several Django
processes with different environments without configuring Django itself.
"""

from __future__ import annotations

import html
import math
import re
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import LiteralString
from urllib.parse import urlsplit

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
LOOPBACK = "127.0.0.1"
# Only databases whose name says they are a benchmark's are created and dropped here.
PG_DEFAULT_URL = f"postgres://postgres@{LOOPBACK}:5432/undersigned_bench"


def demo_campaign_file() -> Path | None:
    """The demo campaign file shipped in the package, if this version has one."""
    import undersigned  # only the package's __init__, which does not set up Django

    path = Path(undersigned.__file__).resolve().parent / "demo" / "riverside-path.toml"
    return path if path.is_file() else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def undersigned_command(*args: str) -> list[str]:
    """``undersigned ARGS`` with this interpreter: the same as ``uv run undersigned`` without uv's extra process."""
    return [sys.executable, "-m", "undersigned.cli", *args]


def django_env(
    base: dict[str, str], *, database_url: str, var_dir: Path, base_url: str, secret_key: str
) -> dict[str, str]:
    """The environment for one Django process of the product under test."""
    env = {k: v for k, v in base.items() if not k.startswith("UNDERSIGNED_") and k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DATABASE_URL=database_url,
        UNDERSIGNED_SECRET_KEY=secret_key,
        UNDERSIGNED_VAR_DIR=str(var_dir),
        UNDERSIGNED_BASE_URL=base_url,
        UNDERSIGNED_CACHE_URL="db://",
        UNDERSIGNED_DEBUG="0",
        UNDERSIGNED_LOG_LEVEL="WARNING",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


@dataclass(frozen=True)
class PostgresDatabase:
    """A PostgreSQL database on the loopback interface that the benchmark creates and drops."""

    url: str

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("postgres", "postgresql"):
            raise SystemExit(f"not a PostgreSQL URL: {self.url!r}")
        if parts.hostname not in (LOOPBACK, "localhost", "::1"):
            raise SystemExit("the benchmark only uses a PostgreSQL server on this machine (127.0.0.1)")
        if "bench" not in self.name:
            raise SystemExit(f"refusing to drop and create {self.name!r}: the database name must contain 'bench'")

    @property
    def name(self) -> str:
        return urlsplit(self.url).path.lstrip("/")

    def _admin_conninfo(self) -> str:
        parts = urlsplit(self.url)
        return parts._replace(path="/postgres").geturl().replace("postgres://", "postgresql://", 1)

    def _execute(self, statement: LiteralString) -> None:
        import psycopg
        from psycopg import sql as pgsql

        with psycopg.connect(self._admin_conninfo(), autocommit=True) as conn:
            conn.execute(pgsql.SQL(statement).format(pgsql.Identifier(self.name)))

    def create(self) -> None:
        self.drop()
        self._execute("CREATE DATABASE {}")

    def drop(self) -> None:
        self._execute("DROP DATABASE IF EXISTS {} WITH (FORCE)")


# --- Reading the composer's HTML like a browser ------------------------------------------------
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_INPUT = re.compile(r"<input\b[^>]*>")
_VALUE = re.compile(r'\bvalue="([^"]*)"')
_TEXTAREA = re.compile(r'<textarea\b[^>]*\bname="([^"]+)"[^>]*>(.*?)</textarea>', re.DOTALL)


class PageError(Exception):
    """A page lacked what a browser would need to go on (a token, a field)."""


def csrf_token(page: str) -> str:
    match = _CSRF.search(page)
    if match is None:
        raise PageError("no csrfmiddlewaretoken in the form")
    return match.group(1)


def input_value(page: str, name: str) -> str:
    marker = f'name="{name}"'
    for tag in _INPUT.finditer(page):
        if marker in tag.group(0):
            value = _VALUE.search(tag.group(0))
            return html.unescape(value.group(1)) if value else ""
    raise PageError(f"no input named {name!r}")


def textarea_value(page: str, name: str) -> str:
    for match in _TEXTAREA.finditer(page):
        if match.group(1) == name:
            text = html.unescape(match.group(2))
            # A browser drops the newline right after <textarea>, as Django's widget writes one.
            return text.removeprefix("\r\n").removeprefix("\n")
    raise PageError(f"no textarea named {name!r}")


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list; 0.0 for an empty list."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), math.ceil(fraction * len(sorted_values))))
    return sorted_values[rank - 1]
