"""Seeing which language an email was built in.

``templates_that_print_the_language`` puts templates of the same names first in the
template search path (a real template directory, found by Django's real loader), each
printing the language active while it renders, so a test reads in the email which
language the send path switched to. The platform's wording and Django's own catalogue
are not needed for that.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

PRINTS_THE_LANGUAGE = "{% load i18n %}{% get_current_language as language %}[language: {{ language }}]\n"


def templates_that_print_the_language(settings: Any, folder: Path, *names: str) -> None:
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PRINTS_THE_LANGUAGE)
    templates = copy.deepcopy(settings.TEMPLATES)
    templates[0]["DIRS"] = [folder, *templates[0]["DIRS"]]
    settings.TEMPLATES = templates
