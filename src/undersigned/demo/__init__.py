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
# Open letters load after the campaigns: one links to a campaign by its slug.
OPEN_LETTER_FILES = ("open-letter-trailheads.toml",)

# Confirmed endorsements the demo open letter starts with (fictional people), as
# (name, role, organisation, country, statement).
DEMO_ENDORSERS = (
    ("Siobhán Ní Bhriain", "Mountain guide", "Connemara Guides", "IE", "Half my clients arrive by bus."),
    ("Petr Dvořák", "Warden", "Krkonoše National Park", "CZ", ""),
    ("佐藤 美咲", "Professor of Transport Geography", "Kansai University of the Arts", "JP", ""),
    ("Wendmouth Ramblers", "Chair", "", "GB", "We have walked from the station for forty years."),
)


def campaign_file_texts(names: tuple[str, ...] = CAMPAIGN_FILES) -> list[tuple[str, str]]:
    """Each demo campaign file as (file name, text)."""
    folder = resources.files("undersigned.demo")
    return [(name, folder.joinpath(name).read_text(encoding="utf-8")) for name in names]


# A few comments per campaign, with a reply thread: (key, reply-to key or None, name, text).
# Fictional people at example addresses; the keys make loading them again a no-op.
DEMO_COMMENTS: tuple[tuple[str, str | None, str, str], ...] = (
    ("c1", None, "Mina Okafor", "I walk my two children along the path every morning. The road has no pavement for "
     "the last half mile, so closing the path would mean driving them — and I don't have a car."),
    ("c2", "c1", "Tom Hughes", "Same here. The council's own survey counted over *300* walkers a day last spring."),
    ("c3", "c2", "Siobhán O'Brien", "Do you have a link to that survey? It would make a strong point in our letters."),
    ("c4", "c3", "Tom Hughes", "It is in the committee papers: [Planning Committee, 14 March](https://council.example/papers)."),
    ("c5", None, "王秀英", "I disagree a little: the path floods every winter. Could we ask for repairs, not just "
     "for it to stay open?"),
    ("c6", "c5", "Mina Okafor", "Good point — I added a sentence about drainage to my letter."),
)  # fmt: skip
