"""Campaign files: a campaign, its recipients and its letter template as TOML text.

This package owns the file format (documented in docs/campaign-files.md), one job a
module: ``schema`` (keys, lengths, the dataclasses), ``limits`` (how many recipients,
tags, prompts and authors a file may hold), ``reading`` (``parse``: TOML text into
checked dataclasses), ``lines`` (where each key is in the text, for messages) and
``writing`` (``dump``). It uses no database; it reads Django's settings for the limits
and, through django-countries, for country names.

``writing`` builds its text with tomlkit, about 6 MB in a process; it is imported by
``dump`` when a file is written (an export), not when this package is, so a web worker
serving public pages does not carry it (``tests/test_lazy_imports.py`` fences it).
"""

from __future__ import annotations

from .limits import check_counts
from .reading import check_recipient, parse, parse_any
from .schema import (
    CHANNELS,
    KINDS,
    MAX_LENGTHS,
    Author,
    CampaignFile,
    CampaignFileError,
    LetterTemplateData,
    OpenLetterFile,
    OpenLetterTranslationData,
    RecipientData,
    TranslationData,
)


def dump(data: CampaignFile | OpenLetterFile) -> str:
    """``writing.dump``: the campaign file of either kind as TOML text."""
    from . import writing  # noqa: PLC0415 (tomlkit only in processes that write files)

    return writing.dump(data)


__all__ = [
    "CHANNELS",
    "KINDS",
    "MAX_LENGTHS",
    "Author",
    "CampaignFile",
    "CampaignFileError",
    "LetterTemplateData",
    "OpenLetterFile",
    "OpenLetterTranslationData",
    "RecipientData",
    "TranslationData",
    "check_counts",
    "check_recipient",
    "dump",
    "parse",
    "parse_any",
]
