"""Heavy libraries stay out of a worker that serves public pages (bench/worker_memory.py).

tomlkit (campaign files written, about 6 MB) and pygal (the results charts, about 2 MB)
are imported where they are used, not when the URLconf loads. A fresh Python process,
as a web worker is, sets Django up, loads the URLconf, resolves the public campaign,
composer and open letter pages and imports their views; neither library may be in
``sys.modules`` then. fido2 (allauth.mfa) is not fenced: ``allauth.urls`` includes the
two-factor views, whose module imports it, and no allauth setting avoids that.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import undersigned

SCRIPT = """
import json, sys
import django

django.setup()
from django.urls import get_resolver, resolve

get_resolver().url_patterns
views = [resolve(path).func for path in ("/c/some-campaign/", "/c/some-campaign/write/", "/open-letters/some-letter/")]
before = {name: name in sys.modules for name in ("tomlkit", "pygal")}

from undersigned.campaigns import campaign_files
from undersigned.dashboard import charts

charts.horizontal_bars(["a"], [1], series="s")
campaign_files.dump(campaign_files.parse_any(sys.stdin.read()))
after = {name: name in sys.modules for name in ("tomlkit", "pygal")}
print(json.dumps({"views": [v.__module__ for v in views], "before": before, "after": after}))
"""


def test_public_pages_do_not_import_tomlkit_or_pygal(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNDERSIGNED_") and k != "DATABASE_URL"}
    env.update(
        DJANGO_SETTINGS_MODULE="undersigned.settings",
        UNDERSIGNED_SECRET_KEY="lazy-imports-" + "abcdefghij" * 5,
        UNDERSIGNED_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    demo = Path(undersigned.__file__).resolve().parent / "demo" / "riverside-path.toml"
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        input=demo.read_text(encoding="utf-8"),
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["views"] == [
        "undersigned.public.views",
        "undersigned.public.views",
        "undersigned.public.open_letter_views",
    ]
    # Not imported by the URLconf nor by the public views...
    assert found["before"] == {"tomlkit": False, "pygal": False}
    # ...and imported once a chart is drawn and a campaign file written (the fence can see them).
    assert found["after"] == {"tomlkit": True, "pygal": True}
