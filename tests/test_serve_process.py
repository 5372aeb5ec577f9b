"""`undersigned serve` as a supervisor runs it: a real gunicorn, stopped with SIGTERM."""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import brotli

from undersigned.core import static_build

PICO = Path(static_build.__file__).parent.parent / "static" / "vendor" / "pico" / "pico.min.css"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server stopped while starting"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback, a URL we built)
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {timeout} s")


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(child) for child in (task / "children").read_text().split())
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_sigterm_stops_gunicorn_and_its_workers_and_no_control_socket_is_shared(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UNDERSIGNED_", "DATABASE_URL"))}
    env.update(
        UNDERSIGNED_VAR_DIR=str(tmp_path / "var"),
        UNDERSIGNED_SECRET_KEY="serve-process-test-key-" + "0123456789" * 3,
        HOME=str(home),
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "undersigned.cli", "serve", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/health/live", process)
        static = static_css(port, tmp_path / "var" / "static")
        workers = children(process.pid)
        assert len(workers) == 2  # `serve` became gunicorn's master: its children are the workers
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert [pid for pid in workers if alive(pid)] == []
    # gunicorn >= 23 would otherwise open ~/.gunicorn/gunicorn.ctl, one per user, shared by
    # every installation on the machine.
    assert list(home.iterdir()) == []
    # `serve` built the static files itself: hashed names, compressed, cached for a year.
    for encoding, (headers, body) in static.items():
        assert headers["Cache-Control"] == "max-age=315360000, public, immutable"
        assert headers["Content-Encoding"] == encoding
        assert headers["Vary"] == "Accept-Encoding"
        decoded = brotli.decompress(body) if encoding == "br" else gzip.decompress(body)
        assert decoded == PICO.read_bytes()
        assert len(body) < len(decoded) / 4  # 71 KB of CSS travels as about 11 KB


def static_css(port: int, root: Path) -> dict[str, tuple[dict[str, str], bytes]]:
    """Pico's CSS by its hashed name, as brotli and as gzip."""
    hashed = json.loads((root / "staticfiles.json").read_text())["paths"]["vendor/pico/pico.min.css"]
    assert hashed.startswith("vendor/pico/pico.min.")
    assert hashed != "vendor/pico/pico.min.css"
    answers = {}
    for encoding in ("br", "gzip"):
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/static/{hashed}", headers={"Accept-Encoding": encoding}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (same)
            answers[encoding] = (dict(response.headers), response.read())
    return answers
