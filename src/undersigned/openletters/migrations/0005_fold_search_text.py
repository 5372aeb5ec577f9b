"""Endorsers' search text folded by ``openletters.text.search_text`` (case, accents,
apostrophes of every shape, punctuation), so a name stored with a phone's curly
apostrophe is found by a straight one. The searches fold what people type the same way.

Recomputed in batches of ``BATCH`` rows by id, each batch its own transaction (the
migration is not atomic), so a big table is neither locked nor held in memory at once.
The trigram index of 0002 indexes the same column and stays as it is. A later change of
``fold`` needs a migration like this one to refold the stored rows.
"""

from typing import Any

from django.db import migrations

from undersigned.openletters.text import SEARCH_TEXT_MAX, search_text

BATCH = 2000


def _recompute(apps: Any, compute: Any) -> None:
    endorsement = apps.get_model("openletters", "Endorsement")
    last = 0
    while True:
        rows = list(
            endorsement.objects.filter(id__gt=last)
            .order_by("id")
            .only("id", "name", "organisation", "signatory", "search_text")[:BATCH]
        )
        if not rows:
            return
        changed = []
        for row in rows:
            value = compute(row.name, row.organisation, row.signatory)
            if value != row.search_text:
                row.search_text = value
                changed.append(row)
        endorsement.objects.bulk_update(changed, ["search_text"])
        last = rows[-1].id


def fold(apps: Any, schema_editor: Any) -> None:
    _recompute(apps, search_text)


def _lower_cased(*parts: str) -> str:
    """The search text before this migration: the parts lower-cased, as typed."""
    return " ".join(part for part in parts if part).casefold()[:SEARCH_TEXT_MAX]


def unfold(apps: Any, schema_editor: Any) -> None:
    _recompute(apps, _lower_cased)


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("openletters", "0004_hand_in_by_version")]
    operations = [migrations.RunPython(fold, unfold)]
