"""Render letters to PDF in a helper process, so web workers never load typst.

A web worker that rendered one PDF itself kept typst's library, its caches and the
vendored fonts for the rest of its life, half again its memory or more (docs/performance.md).
Instead, the first PDF a worker needs starts a helper: a fresh Python that imports only
``delivery.pdf`` (no Django, no database) and renders the letters it is sent over a pipe
(length-prefixed JSON in, PDF out). Starting it costs a fraction of a second of CPU; later PDFs
cost what rendering costs. The helper exits after ``IDLE_SECONDS`` without work, or
when its worker goes away, and takes typst's memory with it; the next PDF starts a new
one. Bulk printing stays in the task worker, in process.

    python -m undersigned.delivery.pdf_process [idle seconds]
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import IO, Any

from .printing import PAPERS, Paper, PrintableLetter

IDLE_SECONDS = 60.0
TIMEOUT_SECONDS = 60.0  # the renderer's inputs are bounded (pdf.MAX_*); a warm letter takes far less
_OK, _REFUSED = b"0", b"3"  # the helper's answer: a PDF, or why the renderer refused the input
_HEADER = 8


class _Helper:
    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self.idle_seconds = idle_seconds
        self.process: subprocess.Popen[bytes] | None = None
        self.lock = threading.Lock()

    def render(self, request: bytes) -> tuple[bytes, bytes]:
        with self.lock:
            for attempt in range(2):
                process = self._running()
                try:
                    if process.stdin is None:
                        raise BrokenPipeError
                    process.stdin.write(len(request).to_bytes(_HEADER, "big") + request)
                    process.stdin.flush()
                    return self._answer(process)
                except (BrokenPipeError, EOFError):
                    # It had just exited for being idle: rendering is safe to repeat once.
                    self.stop()
                    if attempt:
                        raise RuntimeError("the PDF helper stopped while rendering") from None
        raise RuntimeError("the PDF helper could not be started")

    def _running(self) -> subprocess.Popen[bytes]:
        if self.process is None or self.process.poll() is not None:
            self.stop()  # closes the pipes of one that exited for being idle
            self.process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(self.idle_seconds)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,  # letters' text never reaches a log from here
                bufsize=0,
            )
        return self.process

    def _answer(self, process: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
        if process.stdout is None:
            raise EOFError
        deadline = time.monotonic() + TIMEOUT_SECONDS
        head = _read_exact(process.stdout, 1 + _HEADER, deadline)
        if head is None:
            self.stop()
            raise RuntimeError(f"the PDF helper took longer than {TIMEOUT_SECONDS:.0f} s")
        body = _read_exact(process.stdout, int.from_bytes(head[1:], "big"), deadline)
        if body is None:
            self.stop()
            raise RuntimeError(f"the PDF helper took longer than {TIMEOUT_SECONDS:.0f} s")
        return head[:1], body

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
            process.wait()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None and self.process.poll() is None else None


def _read_exact(stream: IO[bytes], size: int, deadline: float | None) -> bytes | None:
    """``size`` bytes, or None at the deadline; EOFError if the other side closed the pipe."""
    chunks: list[bytes] = []
    while size:
        if deadline is not None:
            ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                return None
        chunk = os.read(stream.fileno(), size)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


_helper = _Helper()
atexit.register(_helper.stop)


def render_letters(letters: Sequence[PrintableLetter], *, paper: Paper = "a4") -> bytes:
    """As ``pdf.render_letters``, in the helper process. ``ValueError`` when the input is refused."""
    request = json.dumps({"paper": paper, "letters": [dataclasses.asdict(letter) for letter in letters]})
    status, payload = _helper.render(request.encode())
    if status == _REFUSED:
        raise ValueError(payload.decode(errors="replace"))
    if status != _OK or not payload.startswith(b"%PDF"):
        raise RuntimeError("the PDF helper failed")
    return payload


def _render(pdf: Any, request: dict[str, Any]) -> tuple[bytes, bytes]:
    paper = request["paper"]
    if paper not in PAPERS:
        return _REFUSED, f"unknown paper {paper!r}".encode()
    try:
        letters = [PrintableLetter(**item) for item in request["letters"]]
        return _OK, pdf.render_letters(letters, paper=paper)
    except ValueError as exc:
        return _REFUSED, str(exc).encode()


def main(idle_seconds: float) -> int:
    from . import pdf  # noqa: PLC0415 (typst and the fonts load here, in the helper process only)

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer  # stdin is read with os.read, unbuffered
    while True:
        ready, _, _ = select.select([stdin], [], [], idle_seconds)
        if not ready:
            return 0  # idle: give the memory back; the next PDF starts a new helper
        try:
            head = _read_exact(stdin, _HEADER, None) or b""
            raw = _read_exact(stdin, int.from_bytes(head, "big"), None) or b""
        except EOFError:
            return 0  # the worker went away
        status, payload = _render(pdf, json.loads(raw))
        stdout.write(status + len(payload).to_bytes(_HEADER, "big") + payload)
        stdout.flush()


if __name__ == "__main__":
    sys.exit(main(float(sys.argv[1]) if len(sys.argv) > 1 else IDLE_SECONDS))
