"""Campaign files: a campaign, its recipients and its letter template as TOML text.

This package owns the file format (documented in docs/campaign-files.md), one job a
module: ``schema`` (keys, lengths, the dataclasses), ``limits`` (how many recipients,
tags, prompts and authors a file may hold), ``reading`` (``parse``: TOML text into
checked dataclasses), ``lines`` (where each key is in the text, for messages) and
``writing`` (``dump``). It uses no database; it reads Django's settings for the limits
and, through django-countries, for country names.
"""

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
    RecipientData,
)
from .writing import dump

__all__ = [
    "CHANNELS",
    "KINDS",
    "MAX_LENGTHS",
    "Author",
    "CampaignFile",
    "CampaignFileError",
    "LetterTemplateData",
    "OpenLetterFile",
    "RecipientData",
    "check_counts",
    "check_recipient",
    "dump",
    "parse",
    "parse_any",
]
