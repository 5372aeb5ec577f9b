"""Render letters to PDF in a short-lived child process, so web workers never load typst.

A web worker that rendered one PDF itself kept typst's library, its caches and the
vendored fonts for the rest of its life: 94–110 MB instead of about 60 (bench/README.md).
Supporters download a PDF now and then, so each download runs a fresh Python that
imports only ``delivery.pdf`` (no Django, no database), reads the letters as JSON on
stdin, writes the PDF to stdout and exits, returning its memory. It costs about 0.1 s of
CPU per PDF instead of a few ms; bulk printing stays in the task worker, in process.

    python -m undersigned.delivery.pdf_process < letters.json > letters.pdf
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from .printing import PAPERS, Paper, PrintableLetter

TIMEOUT_SECONDS = 60  # the renderer's inputs are bounded (pdf.MAX_*); a letter takes ~0.1 s
_INPUT_REFUSED = 3  # exit status: the renderer refused the input (ValueError)


def render_letters(letters: Sequence[PrintableLetter], *, paper: Paper = "a4") -> bytes:
    """As ``pdf.render_letters``, in a child process. ``ValueError`` when the input is refused."""
    request = json.dumps({"paper": paper, "letters": [dataclasses.asdict(letter) for letter in letters]})
    try:
        done = subprocess.run(
            [sys.executable, "-m", __name__],
            input=request.encode(),
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:  # subprocess.run has killed the child by then
        raise RuntimeError(f"the PDF renderer took longer than {TIMEOUT_SECONDS} s") from None
    if done.returncode == _INPUT_REFUSED:
        raise ValueError(done.stderr.decode(errors="replace").strip())
    if done.returncode != 0 or not done.stdout.startswith(b"%PDF"):
        # stderr holds typst's or Python's message; letters' text never goes to a log from here.
        raise RuntimeError(f"the PDF renderer failed (exit {done.returncode})")
    return done.stdout


def _letter(data: dict[str, Any]) -> PrintableLetter:
    return PrintableLetter(**data)


def main() -> int:
    from . import pdf  # typst and the fonts load here, in the child only

    request = json.loads(sys.stdin.buffer.read())
    paper = request["paper"]
    if paper not in PAPERS:
        print(f"unknown paper {paper!r}", file=sys.stderr)
        return _INPUT_REFUSED
    try:
        data = pdf.render_letters([_letter(item) for item in request["letters"]], paper=paper)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return _INPUT_REFUSED
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
