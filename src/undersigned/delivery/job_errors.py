"""Why a print or hand-in job failed: stored in English, shown in the reader's language.

A job's ``error`` is written by a worker or by housekeeping, with no reader and so no
language at hand, and rows written before this module keep their English text. So the
stored value stays the English sentence, and ``shown`` reads it back: a sentence of
ours is matched against its pattern and given in the active language with the same
values; anything else (an old or unknown text) is shown as stored.

Each sentence is written once, as its message id: ``stored`` fills it in English
(translations off), ``shown`` in the active language, both with a real plural.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.utils import translation
from django.utils.translation import gettext, ngettext

_PLACEHOLDER = re.compile(r"%\((\w+)\)([ds])")


@dataclass(frozen=True)
class JobError:
    """One sentence a job can fail with: ``message(n)`` gives it in the active language
    (``n`` the value of ``counter``, the number its plural follows)."""

    message: Callable[[int], str]
    counter: str = ""

    def stored(self, **values: Any) -> str:
        """The English text kept in the job's row (translations off: the message ids)."""
        with translation.override(None):
            return self.message(values.get(self.counter, 0)) % values

    def shown(self, values: dict[str, Any]) -> str:
        return self.message(values.get(self.counter, 0)) % values

    @cached_property
    def patterns(self) -> tuple[re.Pattern[str], ...]:
        # The message ids, singular and plural, as patterns that read a stored text's values.
        with translation.override(None):
            texts = dict.fromkeys((self.message(2), self.message(1)))
        return tuple(_pattern(text) for text in texts)


def _pattern(message: str) -> re.Pattern[str]:
    parts, end = [], 0
    for match in _PLACEHOLDER.finditer(message):
        parts.append(re.escape(message[end : match.start()]))
        name, kind = match.groups()
        parts.append(f"(?P<{name}>\\d+)" if kind == "d" else f"(?P<{name}>.*)")
        end = match.end()
    parts.append(re.escape(message[end:]))
    return re.compile("".join(parts), re.S)


RESTARTED = JobError(
    lambda n: gettext("Stopped making progress (its worker may have stopped), so it was started again.")
)
STALLED = JobError(
    lambda n: ngettext(
        "Stopped: no progress for %(minutes)d minute, so the worker printing it has probably stopped. "
        "No letter was marked as posted. Start the print again.",
        "Stopped: no progress for %(minutes)d minutes, so the worker printing it has probably stopped. "
        "No letter was marked as posted. Start the print again.",
        n,
    ),
    counter="minutes",
)
NOTHING_LEFT = JobError(lambda n: gettext("No letters were waiting to be posted any more when the print started."))
NOT_LAID_OUT = JobError(
    lambda n: ngettext(
        "Printing stopped after %(done)d of %(total)d letter: a letter could not be laid out for printing "
        "(%(reason)s).",
        "Printing stopped after %(done)d of %(total)d letters: a letter could not be laid out for printing "
        "(%(reason)s).",
        n,
    ),
    counter="total",
)
SERVER_ERROR = JobError(
    lambda n: ngettext(
        "Printing stopped after %(done)d of %(total)d letter because of an error on the server. Start the print "
        "again; if it fails again, your administrator will find the details in the worker's log under print job "
        "%(job)d.",
        "Printing stopped after %(done)d of %(total)d letters because of an error on the server. Start the print "
        "again; if it fails again, your administrator will find the details in the worker's log under print job "
        "%(job)d.",
        n,
    ),
    counter="total",
)
KNOWN = (RESTARTED, STALLED, NOTHING_LEFT, NOT_LAID_OUT, SERVER_ERROR)


def shown(stored: str) -> str:
    """A job's stored ``error`` in the active language, or as stored when it is not one of ours."""
    for error in KNOWN:
        for pattern in error.patterns:
            match = pattern.fullmatch(stored)
            if match is not None:
                values: dict[str, Any] = {
                    name: value if name == "reason" else int(value) for name, value in match.groupdict().items()
                }
                return error.shown(values)
    return stored
