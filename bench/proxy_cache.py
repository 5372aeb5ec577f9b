"""A surge on a campaign page: nginx's cache (docs/deployment.md) against the servers alone.

    uv run python bench/proxy_cache.py                  # SQLite in a temporary directory
    uv run python bench/proxy_cache.py --db postgres    # creates and drops undersigned_bench
    uv run python bench/proxy_cache.py --duration 20 --connections 64

It sets up a database with the demo campaign, starts `undersigned serve` (2 × cores sync
workers, as in production) and an nginx (from the distribution) with the documented
cache directives in front of it, then lets first-time visitors (no cookies, like
people following a shared link) read the campaign page for ``--duration`` seconds:
once straight from the servers, once through nginx. It prints the pages per second
of each, their ratio (the aim: 10×), latencies, and how many requests reached the
servers during the nginx phase. Then the bytes a browser fetches for the page and its
CSS and JS: as served from the package without the static build (unhashed, uncompressed,
``max-age=60``) and as `serve` serves them (hashed, brotli, a year).

Only 127.0.0.1 is contacted; the run stops at ``--timeout``; servers, nginx and the
database are removed at the end. The load generator runs on the same machine and takes
CPU from both; the ratio is what counts.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import tempfile
import time
from contextlib import ExitStack
from http.client import HTTPConnection
from pathlib import Path

import loadgen
from benchkit import LOOPBACK, PG_DEFAULT_URL, django_env, free_port, undersigned_command

from letters import Server, _prepare, database, overall_timeout
from undersigned.cli import _serve_command
from undersigned.testing.nginx import Nginx, config, nginx_binary


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--pg-url", default=PG_DEFAULT_URL)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--nginx-workers", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600.0)
    return parser.parse_args(argv)


def _fetch(port: int, path: str, encoding: str | None) -> tuple[int, dict[str, str], bytes]:
    conn = HTTPConnection(LOOPBACK, port, timeout=30)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": encoding} if encoding else {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def page_weight(port: int, path: str, encoding: str | None) -> tuple[int, int, set[str]]:
    """Bytes of the page, bytes of its CSS and JS on the wire, and their Cache-Control values."""
    status, _, body = _fetch(port, path, None)
    if status != 200:
        raise SystemExit(f"{path} answered {status}")
    assets = re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"', body.decode())
    total, controls = 0, set()
    for asset in dict.fromkeys(assets):
        status, headers, data = _fetch(port, asset, encoding)
        if status != 200:
            raise SystemExit(f"{asset} answered {status}")
        total += len(data)
        controls.add(headers.get("cache-control", ""))
    return len(body), total, controls


def _served_requests(log: Path) -> int:
    """Requests gunicorn logged (its access log: one line "GET 200 0.01s" each)."""
    return sum(1 for line in log.read_text(errors="replace").splitlines() if re.match(r"^[A-Z]+ \d{3} ", line))


def _phase(port: int, path: str, args: argparse.Namespace) -> loadgen.PhaseResult:
    loadgen.run_phase(port, lambda vu: loadgen.page_get(path, vu), connections=args.connections, duration=args.warmup)
    return loadgen.run_phase(
        port, lambda vu: loadgen.page_get(path, vu), connections=args.connections, duration=args.duration
    )


def _line(name: str, result: loadgen.PhaseResult) -> str:
    errors = f", errors: {dict(result.errors)}" if result.errors else ""
    return (
        f"  {name:<22} {result.rate:8.0f} pages/s   p50 {result.latency_ms(0.5):6.1f} ms"
        f"   p99 {result.latency_ms(0.99):6.1f} ms   ({result.ok} pages{errors})"
    )


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    if nginx_binary() is None:
        raise SystemExit("nginx is not installed (apt-get install nginx-light)")
    with overall_timeout(args.timeout), tempfile.TemporaryDirectory(prefix="bench-proxy-") as raw, ExitStack() as stack:
        tmp = Path(raw)
        database_url = stack.enter_context(database(args, tmp))
        port = free_port()
        env = django_env(
            dict(os.environ),
            database_url=database_url,
            var_dir=tmp / "var",
            base_url=f"http://{LOOPBACK}:{port}",
            secret_key=os.urandom(32).hex(),
        )
        env["UNDERSIGNED_WEB_MAX_REQUESTS"] = "0"
        slug = _prepare(env)
        path = f"/c/{slug}/"
        server = Server(
            name="product",
            command=undersigned_command("serve", "--bind", f"{LOOPBACK}:{port}", "--workers", str(args.workers)),
            env={**env, "UNDERSIGNED_LOG_LEVEL": "WARNING"},
            port=port,
            ready_path="/health/ready",
            workers=args.workers,
            log_path=tmp / "serve.log",
        )
        started = time.monotonic()
        server.start()
        stack.callback(server.stop)
        server.wait_ready(timeout=300)  # the first start builds the static files
        print(f"  undersigned serve ready (static build included): {time.monotonic() - started:.1f} s", flush=True)
        nginx_port = free_port()
        nginx = Nginx(
            tmp / "nginx",
            config(tmp / "nginx", port=nginx_port, upstreams=[f"{LOOPBACK}:{port}"], workers=args.nginx_workers),
            nginx_port,
        )
        stack.callback(nginx.stop)

        print(f"\nCampaign page {path}, {args.connections} visitors without cookies, {args.duration:.0f} s each")
        origin = _phase(port, path, args)
        print(_line("servers alone", origin), flush=True)
        before = _served_requests(server.log_path)
        cached = _phase(nginx_port, path, args)
        reached = _served_requests(server.log_path) - before
        print(_line("through nginx's cache", cached), flush=True)
        print(f"  ratio: {cached.rate / origin.rate:.1f}× (aim: 10×)")
        print(
            f"  requests that reached the servers during the nginx phase (warm-up included): {reached}"
            f" of {cached.requests}"
        )

        print("\nBytes a first visit fetches (the page, then its CSS and JS)")
        plain_port = free_port()
        plain_env = {**env, "UNDERSIGNED_STATIC_ROOT": str(tmp / "no-build")}  # no manifest: served from the package
        plain = Server(
            name="without the static build",
            command=_serve_command(f"{LOOPBACK}:{plain_port}", 1, 0),
            env=plain_env,
            port=plain_port,
            ready_path="/health/ready",
            workers=1,
            log_path=tmp / "plain.log",
        )
        plain.start()
        stack.callback(plain.stop)
        plain.wait_ready()
        for name, weight in (
            ("before (package, unhashed)", page_weight(plain_port, path, "br, gzip")),
            ("after (serve: hashed, br)", page_weight(port, path, "br, gzip")),
        ):
            html, assets, controls = weight
            print(
                f"  {name:<28} page {html / 1024:5.1f} KB + assets {assets / 1024:6.1f} KB"
                f" = {(html + assets) / 1024:6.1f} KB; assets' Cache-Control: {', '.join(sorted(controls))}"
            )


if __name__ == "__main__":
    try:
        main()
    except subprocess.TimeoutExpired as exc:
        raise SystemExit(f"timed out: {exc}") from None
