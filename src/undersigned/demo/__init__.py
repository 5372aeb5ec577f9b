"""Demo data: the organisation and campaign files ``undersigned demo`` loads.

The campaigns are campaign files like any organiser's, so the demo also shows the
format (docs/campaign-files.md) at work. Everything in them is fictional.
"""

from __future__ import annotations

from importlib import resources

ORGANISATION_SLUG = "demo"
ORGANISATION_NAME = "Open Footpaths Alliance"
ORGANISATION_SHORT_NAME = "Open Footpaths"
ORGANISER_USERNAME = "organiser"

# In the order the demo loads them; the file names are not slugs (those are inside).
CAMPAIGN_FILES = ("riverside-path.toml", "bus-to-every-trailhead.toml")


def campaign_file_texts() -> list[tuple[str, str]]:
    """Each demo campaign file as (file name, text)."""
    folder = resources.files("undersigned.demo")
    return [(name, folder.joinpath(name).read_text(encoding="utf-8")) for name in CAMPAIGN_FILES]
