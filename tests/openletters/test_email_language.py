"""An endorser's confirmation email is in the language the site spoke to them when they endorsed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.languages import templates_that_print_the_language
from tests.openletters.conftest import endorse
from undersigned.openletters.mail import build_message
from undersigned.openletters.models import Endorsement

pytestmark = pytest.mark.django_db


def test_the_endorsers_language_is_recorded_and_their_email_is_built_in_it(
    open_letter: Any, settings: Any, tmp_path: Path
) -> None:
    endorse(Client(HTTP_ACCEPT_LANGUAGE="es"), open_letter)
    endorse(Client(HTTP_ACCEPT_LANGUAGE="de"), open_letter, email="chen@example.org", name="Chen Wei")
    spanish = Endorsement.objects.get(email="siobhan@example.ie")
    german = Endorsement.objects.get(email="chen@example.org")
    assert (spanish.language, german.language) == ("es", "de")

    templates_that_print_the_language(
        settings, tmp_path, "openletters/email_confirm.txt", "openletters/email_confirm.html"
    )
    assert "[language: es]" in str(build_message(spanish).body)
    assert "[language: de]" in str(build_message(german).body)
    # Recorded without one (before languages were): the letter's language.
    open_letter.language = "fr"
    open_letter.save(update_fields=["language"])
    Endorsement.objects.filter(pk=spanish.pk).update(language="")
    assert "[language: fr]" in str(build_message(Endorsement.objects.get(pk=spanish.pk)).body)
