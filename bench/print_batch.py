"""Batch printing: pages per second and peak memory for a bulk print of N letters.

    uv run python bench/print_batch.py [--letters 10000] [--recipients 92] [--paper a4]
                                       [--paragraphs 4] [--keep out.pdf]
                                       [--scripts] [--cjk-subset]

Runs the path print jobs and ``undersigned print`` use (``delivery.print_render``:
letters packed into chunks, each chunk rendered by typst to a file in a temporary
folder, the files joined into one PDF) on plain ``PrintableLetter`` data made up here,
so no database is involved. The letters go to ``--recipients`` recipients in turn
blocks, each block behind its cover sheet, the way a campaign's post is printed.

Prints the time spent rendering and joining, pages per second, and the process's peak
memory twice: ``ru_maxrss`` from getrusage and ``VmHWM`` from /proc/self/status (the
same figure on Linux; both are shown because either can be missing elsewhere).
The aim: well under 500 MB for 10,000 letters.

``--scripts`` adds senders whose names are in Arabic, Hebrew, Devanagari, Chinese,
Japanese and Korean, so every font is loaded; ``--cjk-subset`` renders as a machine
without Debian's fonts-noto-cjk does (the vendored CJK subset, delivery/fonts/README.md).
"first chunk" includes typst's font scan, the first compile's extra cost.
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SENDERS = [
    ("Ana Ruiz", ["12 Eastfield Road", "Wendmouth", "WM2 3BB"], "Wendmouth"),
    ("Siobhán O'Brien", ["4 Shandon Street", "Cork", "T23 AB12"], "Cork"),
    ("Jana Šimůnková", ["Vinohradská 12", "120 00 Praha 2"], "Praha"),
    ("Mina Okafor", ["Flat 3, 27 Riverside Row", "Wendmouth", "WM1 4CD"], "Wendmouth"),
]
SCRIPT_SENDERS = [
    ("فاطمة الزهراء", ["شارع الملك فهد ١٢", "الرياض"], "الرياض"),
    ("שרה לוי", ["רחוב הרצל 5", "תל אביב"], "תל אביב"),
    ("प्रिया शर्मा", ["12 महात्मा गांधी मार्ग", "नई दिल्ली"], "नई दिल्ली"),
    ("王秀英", ["北京市朝阳区建国路 88 号"], "北京"),
    ("髙橋 凜", ["東京都千代田区 1-1"], "東京"),
    ("김똠이", ["서울특별시 종로구 1"], "서울"),
]
PARAGRAPH = (
    "I walk the riverside path every morning with my children on the way to school. It is the only "
    "route that keeps us away from the ring road, and closing it would put every family on the estate "
    "beside four lanes of traffic. Please keep it open and fix the lighting instead."
)


def _status(field: str) -> int | None:
    """A field of /proc/self/status in kB (Linux only)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _mb(kilobytes: int | None) -> str:
    return "n/a" if kilobytes is None else f"{kilobytes / 1024:.0f} MB"


def _letters(count: int, per_recipient: int, paragraphs: int, senders: list[Any]) -> Iterator[tuple[Any, Any]]:
    """(cover, letter) pairs, made one at a time as the database hands them over in a real print."""
    from undersigned.delivery.print_render import Cover
    from undersigned.delivery.printing import PrintableLetter

    for number in range(count):
        index = number // per_recipient
        total = min(per_recipient, count - index * per_recipient)
        recipient = f"Delegate of section {index + 1}"
        cover = Cover(key=index, label=f"{recipient}, National section {index + 1}", total=total)
        name, address, town = senders[number % len(senders)]
        body = f"Dear {recipient},\n\n" + "\n\n".join(
            f"{PARAGRAPH} (Letter {number + 1}, paragraph {p + 1}.)" for p in range(paragraphs)
        )
        yield (
            cover,
            PrintableLetter(
                sender_name=name,
                sender_address=address,
                recipient_name=recipient,
                recipient_address=[f"National section {index + 1}", "1 Assembly Square", "Geneva"],
                date_text="23 November 2026",
                place=town,
                subject="Please vote to keep the riverside path open",
                body=body + "\n\nYours sincerely,",
                signature=name,
            ),
        )


def _setup(*, cjk_subset: bool) -> None:
    # Settings are read (the renderer sits in a Django app) but no database is opened.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "undersigned.settings")
    os.environ.setdefault("UNDERSIGNED_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("UNDERSIGNED_VAR_DIR", tempfile.mkdtemp(prefix="undersigned-bench-print-"))
    os.environ.setdefault("UNDERSIGNED_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from undersigned.delivery import pdf

    if cjk_subset:
        pdf.SYSTEM_CJK_DIR = Path(tempfile.mkdtemp(prefix="undersigned-bench-no-fonts-"))
    print(f"font folders       {', '.join(str(path) for path in pdf.font_dirs())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--letters", type=int, default=10_000)
    parser.add_argument("--recipients", type=int, default=92, help="e.g. the national sections that vote")
    parser.add_argument("--paper", choices=("a4", "us-letter"), default="a4")
    parser.add_argument("--paragraphs", type=int, default=4, help="paragraphs per letter; 4 fill about one page")
    parser.add_argument("--keep", type=Path, help="keep the PDF at this path")
    parser.add_argument("--scripts", action="store_true", help="senders' names in every script, too")
    parser.add_argument("--cjk-subset", action="store_true", help="as without fonts-noto-cjk")
    args = parser.parse_args()

    _setup(cjk_subset=args.cjk_subset)
    from undersigned.delivery import print_render

    per_recipient = -(-args.letters // args.recipients)  # rounded up
    senders = SENDERS + SCRIPT_SENDERS if args.scripts else SENDERS
    items = _letters(args.letters, per_recipient, args.paragraphs, senders)

    chunks = 0
    rendered_at = 0.0
    first_chunk_at = 0.0

    def on_progress(done: int) -> None:
        nonlocal chunks, rendered_at, first_chunk_at
        chunks += 1
        rendered_at = time.perf_counter()
        first_chunk_at = first_chunk_at or rendered_at

    before = _status("VmRSS")
    with tempfile.TemporaryDirectory(prefix="undersigned-bench-print-") as folder:
        out_path = args.keep or Path(folder) / "letters.pdf"
        started = time.perf_counter()
        with out_path.open("wb") as out:
            count = print_render.print_letters(items, out, paper=args.paper, on_progress=on_progress)
        finished = time.perf_counter()
        peak_rusage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
        peak_hwm = _status("VmHWM")
        size = out_path.stat().st_size
        from pypdf import PdfReader

        pages = len(PdfReader(out_path).pages)

    covers = -(-count // per_recipient)
    assert pages >= count + covers, f"{pages} pages for {count} letters and {covers} covers"
    seconds = finished - started
    print(f"letters            {count:,} to {covers} recipients ({args.paper}, {args.paragraphs} paragraphs each)")
    print(f"pages              {pages:,} in {chunks} chunks; {size / 1e6:.1f} MB of PDF")
    print(f"render             {rendered_at - started:.1f} s (first chunk {first_chunk_at - started:.2f} s)")
    print(f"join               {finished - rendered_at:.1f} s")
    print(f"pages per second   {pages / seconds:.0f} (letters per second {count / seconds:.0f})")
    print(f"memory before      {_mb(before)} (Python and Django loaded, before the first compile)")
    print(f"peak ru_maxrss     {_mb(peak_rusage)}")
    print(f"peak VmHWM         {_mb(peak_hwm)}")
    if args.keep:
        print(f"kept               {args.keep}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
