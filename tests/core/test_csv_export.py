"""The one CSV writer every export uses: formula-safe cells, a byte order mark, lazy rows."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Iterator

from undersigned.core.csv_export import csv_filename, csv_lines, safe_cell


def test_safe_cell() -> None:
    values = ("=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "Ana", "", "a=b", None, -3, 7)
    assert [safe_cell(v) for v in values] == [
        "'=1+1",
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "Ana",
        "",
        "a=b",
        "",
        "-3",
        "7",
    ]


def test_lines_read_back_with_csv_and_start_with_a_byte_order_mark() -> None:
    lines = list(csv_lines(("name", "note"), [('Zoë, "the" walker', "=cmd|' /C calc'!A0"), ("Ana", 3)]))
    body = "".join(lines).encode("utf-8")
    assert body.startswith(b"\xef\xbb\xbfname,note\r\n")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [["name", "note"], ['Zoë, "the" walker', "'=cmd|' /C calc'!A0"], ["Ana", "3"]]


def test_rows_are_read_only_as_lines_are_asked_for() -> None:
    read: list[int] = []

    def rows() -> Iterator[tuple[int]]:
        for n in range(3):
            read.append(n)
            yield (n,)

    lines = csv_lines(("n",), rows())
    next(lines)
    assert read == []
    next(lines)
    assert read == [0]


def test_filename() -> None:
    assert csv_filename("walk-7", "letters", datetime.date(2026, 4, 24)) == "walk-7-letters-2026-04-24.csv"
