"""CSV files people open in spreadsheet programs: safe cells, UTF-8 with a byte order mark,
streamed a row at a time.

Every CSV the project hands out is written through ``csv_lines`` (or at least
``safe_cell``), so none of them can carry a formula into an organiser's spreadsheet and
all of them open with their accents intact in programs that guess the encoding.
"""

from __future__ import annotations

import csv
import datetime
from collections.abc import Iterable, Iterator, Sequence

from django.http import StreamingHttpResponse

# A cell starting with one of these is a formula (or may start one) to spreadsheet programs.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
BOM = "\ufeff"  # so spreadsheet programs read the file as UTF-8

Cell = str | int | None


def safe_cell(value: Cell) -> str:
    """A cell a spreadsheet shows as text: a leading formula character gets a ' before it.

    Numbers are written as they are (a negative count is not a formula); None is empty.
    """
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return "'" + value if value.startswith(FORMULA_START) else value


class _Echo:
    """A file that hands back what is written to it: csv.writer then returns each line."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Iterator[str]:
    """The header and rows as CSV lines, the first starting with a byte order mark.

    Lazy: a row is read from ``rows`` only when its line is asked for, so a streamed
    response holds one row in memory however many there are.
    """
    writer = csv.writer(_Echo())
    yield BOM + writer.writerow([safe_cell(name) for name in header])
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])


def csv_filename(slug: str, what: str, day: datetime.date) -> str:
    """``<slug>-<what>-<YYYY-MM-DD>.csv``: slugs are ASCII letters, digits and hyphens."""
    return f"{slug}-{what}-{day.isoformat()}.csv"


def streamed_csv(lines: Iterable[str], filename: str) -> StreamingHttpResponse:
    """A download of CSV ``lines`` streamed as they are made; never kept by any cache."""
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
