"""The post channel: a letter printed for a window envelope.

Turns database rows into the plain ``PrintableLetter`` the PDF renderer takes. The
date is written in the letter's language ("23. November 2026" in German).
"""

from __future__ import annotations

import datetime

from django.utils import formats, translation

from undersigned.campaigns.models import Recipient
from undersigned.delivery.printing import Paper, PrintableLetter
from undersigned.letters import texts as letter_texts
from undersigned.letters.models import Letter
from undersigned.letters.queries import text_for

# Django's own DATE_FORMAT per language is right for most languages; English needs
# a choice, and letters in Britain and most of the world write "23 November 2026".
_DATE_FORMATS = {"en": "j F Y", "en-us": "F j, Y"}


def letter_date(day: datetime.date, language: str) -> str:
    language = (language or "en").lower()
    with translation.override(language):
        fmt = _DATE_FORMATS.get(language) or _DATE_FORMATS.get(language.split("-")[0])
        return formats.date_format(day, fmt or "DATE_FORMAT")


def printable(letter: Letter, recipient: Recipient, *, day: datetime.date) -> PrintableLetter:
    campaign = letter.campaign
    # The language of the text this recipient gets (the campaign's text the supporter
    # chose, or their version in the recipient's language): the PDF hyphenates and
    # writes its date in it.
    text = text_for(letter, recipient)
    main = letter.text_language or campaign.template.language or campaign.language or "en"
    language = main if text.language == letter_texts.main_language(letter) else text.language
    body, signature = _split_signature(text.body, letter.sender_name)
    return PrintableLetter(
        sender_name=letter.sender_name,
        sender_address=letter.sender_address_lines,
        recipient_name=recipient.name,
        recipient_address=recipient.address_lines,
        date_text=letter_date(day, language),
        place=letter.sender_town,
        subject=text.subject,
        body=body,
        signature=signature,
        language=language,
    )


def _split_signature(body: str, name: str) -> tuple[str, str]:
    """The body and the name printed under the signing space, so the name is printed once.

    Templates end "Yours sincerely,\n{{ supporter.name }}", which reads right in an email;
    on paper the name belongs below the handwritten signature. A closing name line is
    moved there. When the supporter wrote more after signing (a postscript, a line of
    their own), the name stays where they put it and nothing is printed under the
    signing space: printing it there as well signed the letter twice.
    """
    wanted = name.strip().casefold()
    lines = body.rstrip().split("\n")
    if not wanted:
        return body, name
    if lines and lines[-1].strip().casefold() == wanted:
        return "\n".join(lines[:-1]).rstrip(), name
    if any(line.strip().casefold() == wanted for line in lines):
        return body, ""
    return body, name


def pdf_filename(letter: Letter, recipient: Recipient, paper: Paper) -> str:
    return f"letter-{letter.campaign.slug}-{recipient.pk}-{paper}.pdf"
