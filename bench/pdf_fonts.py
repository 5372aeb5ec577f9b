"""What the fonts cost a fresh process: the PDF helper (delivery/pdf_process.py) and
every print worker pay it on their first PDF.

    uv run python bench/pdf_fonts.py [--runs 5]

For each way the fonts can be found (Debian's full Noto CJK, as .ci/run installs it,
and the vendored CJK subset, as after the quick start) it starts ``--runs`` fresh
interpreters, each of which: imports the renderer, renders one Latin letter (the font
scan and first compile), then one letter with names in every script (the Arabic,
Hebrew, Devanagari and CJK fonts loaded), and reports the times and its RSS after each.
Prints the median of the runs. No database and no Django settings: ``delivery.pdf`` is
pure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import json, sys, time, tempfile
from pathlib import Path

def rss():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

t0 = time.perf_counter()
from undersigned.delivery import pdf
from undersigned.delivery.printing import PrintableLetter
if sys.argv[1] == "subset":
    pdf.SYSTEM_CJK_DIR = Path(tempfile.mkdtemp(prefix="undersigned-bench-no-fonts-"))
import logging
logging.disable(logging.WARNING)  # the subset's warning, expected here

def letter(name, body):
    return PrintableLetter(
        sender_name="Jana Šimůnková", sender_address=["Vinohradská 12", "120 00 Praha 2"],
        recipient_name=name, recipient_address=["1 Assembly Square", "Geneva"],
        date_text="23 November 2026", place="Praha", subject="Clean rivers",
        body=body, signature="Jana Šimůnková",
    )

t1 = time.perf_counter()
rss_imported = rss()
pdf.render_letters([letter("Siobhán O'Brien", "Dear Ms O'Brien,\n\nPlease support the bill.")])
t2 = time.perf_counter()
rss_latin = rss()
names = ["فاطمة الزهراء", "שרה לוי", "प्रिया शर्मा", "王秀英", "髙橋 凜", "김똠이"]
pdf.render_letters([letter(name, name + ",\n\n" + " ".join(names)) for name in names])
t3 = time.perf_counter()
rss_all = rss()
pdf.render_letters([letter("Siobhán O'Brien", "Dear Ms O'Brien,\n\nPlease support the bill.")])
t4 = time.perf_counter()
print(json.dumps({
    "import s": t1 - t0, "first Latin letter s": t2 - t1, "then 6 letters in every script s": t3 - t2,
    "then a Latin letter warm s": t4 - t3,
    "RSS imported MB": rss_imported, "RSS after Latin MB": rss_latin, "RSS after every script MB": rss_all,
}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    for mode in ("system", "subset"):
        results = []
        for _ in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="undersigned-bench-fonts-") as cwd:
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, mode], capture_output=True, check=True, text=True, cwd=cwd
                )
            results.append(json.loads(out.stdout.splitlines()[-1]))
        print(f"{mode} CJK fonts, median of {args.runs} fresh processes:")
        for key in results[0]:
            value = statistics.median(run[key] for run in results)
            print(f"  {key:<36} {value:.3f}" if key.endswith(" s") else f"  {key:<36} {value:.1f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
