"""``{{ code|text_direction }}``: ``rtl`` or ``ltr`` for a language code, for ``dir=``.

Content keeps its own direction whatever the interface's: an English campaign on an
Arabic page reads left to right (``<article lang="en" dir="ltr">``), an Arabic letter
on an English page right to left. A builtin (settings.TEMPLATES), so templates need no
``{% load %}``.
"""

from __future__ import annotations

from django import template
from django.utils.translation import get_language_info

register = template.Library()

# Written right to left, for codes Django's language table does not know.
RIGHT_TO_LEFT = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "ku", "ps", "sd", "ug", "ur", "yi"})


@register.filter
def text_direction(code: object) -> str:
    value = str(code or "").strip().lower().replace("_", "-")
    if not value:
        return "auto"
    try:
        bidi = bool(get_language_info(value)["bidi"])
    except KeyError:
        bidi = value.split("-")[0] in RIGHT_TO_LEFT
    return "rtl" if bidi else "ltr"
