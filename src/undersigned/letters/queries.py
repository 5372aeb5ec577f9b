"""Reads for letters."""

from __future__ import annotations

from .links import unsign_token
from .models import Letter


def letter_from_link(value: str) -> Letter | None:
    """The letter behind a supporter's signed link; raises LinkExpired / LinkInvalid."""
    token = unsign_token(value)
    return (
        Letter.objects.select_related("campaign__organisation", "campaign__template", "supporter")
        .filter(token=token)
        .first()
    )
