"""Rate strings such as ``5/m`` or ``30/10m``; no Django imports, so settings can use it."""

from __future__ import annotations

import re

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"5/m"`` → (5, 60); ``"30/10m"`` → (30, 600): a count and a period in seconds."""
    match = _RATE.match(rate)
    if not match or int(match.group(1)) < 1 or match.group(2) == "0":
        raise ValueError(f"a rate looks like 5/m, 100/h or 30/10m, not {rate!r}")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _PERIODS[unit]
