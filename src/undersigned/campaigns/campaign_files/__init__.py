"""Campaign files: a campaign, its recipients and its letter template as TOML text.

This package owns the file format (documented in docs/campaign-files.md), one job a
module: ``schema`` (keys, limits, the dataclasses), ``reading`` (``parse``: TOML text
into checked dataclasses), ``lines`` (where each key is in the text, for messages) and
``writing`` (``dump``). It is pure: no database, no settings, except that country codes
are checked against django-countries, which reads Django's settings when first used.
"""

from .reading import parse, parse_any
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
    "dump",
    "parse",
    "parse_any",
]
