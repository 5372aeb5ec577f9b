"""Reading a recipients CSV: bytes in, checked rows and per-row problems out. No database.

The format (README, "Recipients from a spreadsheet"): UTF-8 (a byte order mark is
allowed), a header row naming the columns in any order and case, commas (or semicolons,
as some spreadsheets write them) between cells. Each row is checked by the campaign
file's rule for a recipient (``campaign_files.check_recipient``), so a recipient valid
in a file is valid here and the messages are the same. A postal address has one line per
envelope line: line breaks inside a quoted cell, or `` / `` (a slash with a space each
side) between lines; a slash without spaces (``Flat 2/3``) stays.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

from .campaign_files import RecipientData, check_recipient

# Header names, normalised (lower case, spaces, hyphens and underscores alike), and the
# campaign-file key each one fills.
COLUMNS: dict[str, str] = {
    "name": "name",
    "role": "role",
    "organisation": "organisation",
    "organization": "organisation",
    "email": "email",
    "e_mail": "email",
    "web_form": "web_form_url",
    "web_form_url": "web_form_url",
    "postal_address": "postal_address",
    "address": "postal_address",
    "country": "country",
    "language": "language",
    "vote_weight": "vote_weight",
}
# The names the documentation gives, in its order.
DOCUMENTED = (
    "name", "role", "organisation", "email", "web form", "postal address", "country", "language", "vote weight",
)  # fmt: skip
VOTE_WEIGHT_MAX = 1_000_000
ADDRESS_SEPARATOR = re.compile(r"\s+/\s+")


class CsvFileError(Exception):
    """A file that cannot be read at all: one message, shown next to the file field."""


@dataclass(frozen=True)
class CsvRow:
    row: int  # as a spreadsheet numbers it: the header is row 1
    data: RecipientData
    vote_weight: int | None  # None: the cell was empty


@dataclass(frozen=True)
class RowError:
    row: int
    column: str  # the header as written in the file; "" for the row as a whole
    message: str


@dataclass
class CsvImport:
    rows: list[CsvRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    has_vote_weight: bool = False


def _normal(header: str) -> str:
    return re.sub(r"[\s_\-]+", "_", header.strip().casefold()).strip("_")


def decode(raw: bytes) -> str:
    """The file's text, or ``CsvFileError`` saying why it is not UTF-8 text."""
    if len(raw) > settings.RECIPIENT_CSV_MAX_BYTES:
        raise CsvFileError(
            _("The file is larger than %(limit)s bytes; split it into smaller files.")
            % {"limit": f"{settings.RECIPIENT_CSV_MAX_BYTES:,}"}
        )
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw:
        raise CsvFileError(_("The file is UTF-16, not UTF-8. Save it as “CSV UTF-8” and upload it again."))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvFileError(
            _(
                "The file is not UTF-8 text (byte %(position)s); it may be Latin-1 or Windows-1252. "
                "Save it as “CSV UTF-8” and upload it again."
            )
            % {"position": exc.start + 1}
        ) from None
    # Text in, text out, the same: line ends are \n inside cells too.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse(raw: bytes) -> CsvImport:
    """Read and check every row; ``CsvFileError`` for a file that can't be read at all."""
    text = decode(raw)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise CsvFileError(
                _("The file is empty. Its first row names the columns: %(columns)s.")
                % {"columns": ", ".join(DOCUMENTED)}
            )
        keys = _header_keys(header)
        result = CsvImport(has_vote_weight="vote_weight" in keys)
        seen: dict[tuple[str, ...], int] = {}
        count = 0
        # Numbered as a spreadsheet shows them: the header is row 1, a record is one row
        # even when a quoted cell holds line breaks.
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            count += 1
            if count > settings.RECIPIENT_CSV_MAX_ROWS:
                raise CsvFileError(
                    _("The file has more than %(limit)s rows; split it into smaller files.")
                    % {"limit": f"{settings.RECIPIENT_CSV_MAX_ROWS:,}"}
                )
            _check_row(result, number, header, keys, cells, seen)
    except csv.Error as exc:
        raise CsvFileError(
            _("Row %(row)s cannot be read as CSV (%(reason)s).") % {"row": reader.line_num, "reason": exc}
        ) from None
    return result


def _header_keys(header: list[str]) -> list[str]:
    keys: list[str] = []
    for cell in header:
        key = COLUMNS.get(_normal(cell))
        if key is None:
            raise CsvFileError(
                _("Unknown column “%(column)s”. The columns are: %(columns)s.")
                % {"column": cell.strip(), "columns": ", ".join(DOCUMENTED)}
            )
        if key in keys:
            raise CsvFileError(_("The column “%(column)s” appears twice.") % {"column": cell.strip()})
        keys.append(key)
    if "name" not in keys:
        raise CsvFileError(
            _("The file has no “name” column. Its first row names the columns: %(columns)s.")
            % {"columns": ", ".join(DOCUMENTED)}
        )
    return keys


def _check_row(  # noqa: PLR0917 (one private helper of parse, called once)
    result: CsvImport,
    number: int,
    header: list[str],
    keys: list[str],
    cells: list[str],
    seen: dict[tuple[str, ...], int],
) -> None:
    columns = {key: header[index].strip() for index, key in enumerate(keys)}
    errors: list[RowError] = []
    if len(cells) > len(keys):
        errors.append(
            RowError(
                number,
                "",
                _("This row has %(cells)s cells; the header has %(columns)s columns.")
                % {"cells": len(cells), "columns": len(keys)},
            )
        )
    values = {key: cells[index].strip() if index < len(cells) else "" for index, key in enumerate(keys)}
    weight_text = values.pop("vote_weight", "")
    if "postal_address" in values:
        values["postal_address"] = "\n".join(
            line.strip() for line in ADDRESS_SEPARATOR.split(values["postal_address"]) if line.strip()
        )
    data, problems = check_recipient(values)
    errors.extend(RowError(number, columns.get(key, ""), message) for key, message in problems)
    weight: int | None = None
    if weight_text:
        if weight_text.isdigit() and 1 <= int(weight_text) <= VOTE_WEIGHT_MAX:
            weight = int(weight_text)
        else:
            errors.append(
                RowError(
                    number,
                    columns["vote_weight"],
                    _("vote weight “%(value)s” must be a whole number from 1 to %(limit)s")
                    % {"value": weight_text, "limit": f"{VOTE_WEIGHT_MAX:,}"},
                )
            )
    if data.name:
        identity = ("email", data.email.casefold()) if data.email else ("name", data.name, data.organisation)
        if identity in seen:
            reason = _("the same email") if data.email else _("the same name and organisation, without an email")
            errors.append(
                RowError(number, "", _("repeats row %(row)s (%(reason)s)") % {"row": seen[identity], "reason": reason})
            )
        else:
            seen[identity] = number
    if errors:
        result.errors.extend(errors)
    else:
        result.rows.append(CsvRow(number, data, weight))
