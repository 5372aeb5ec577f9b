"""What a web worker loads: the PDF machinery stays out of it.

typst (with its fonts) and pypdf cost a web worker about 20 MB that it would keep for
good; only the task worker and the PDF helper process (delivery/pdf_process.py) need
them. A worker imports the WSGI application and, on its first request, every URL's view.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# bulk_print (print jobs) is not here: it loads no PDF machinery since rendering and
# joining moved to print_render and pdf_join.
HEAVY = (
    "typst",
    "pypdf",
    "undersigned.delivery.pdf",
    "undersigned.delivery.print_render",
    "undersigned.delivery.pdf_join",
)

PROBE = """
import json, sys
import undersigned.wsgi
from django.urls import get_resolver

def walk(patterns):
    for p in patterns:
        if hasattr(p, "url_patterns"):
            walk(p.url_patterns)

walk(get_resolver().url_patterns)
print(json.dumps(sorted(m for m in sys.modules if m in HEAVY)))
"""


def test_a_web_worker_does_not_load_the_pdf_machinery(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UNDERSIGNED_", "DATABASE_URL"))}
    env.update(
        UNDERSIGNED_VAR_DIR=str(tmp_path / "var"), UNDERSIGNED_SECRET_KEY="web-process-test-key-" + "0123456789" * 3
    )
    result = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{PROBE}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
