"""A counting SMTP sink for the bench scripts: aiosmtpd on 127.0.0.1, in a process of its own.

The sink accepts every message and only counts it: how many, how many bytes, and when
the first and the last arrived (``time.monotonic()``, the same clock in every process
on Linux). It runs in its own process so that a sender measured inside the bench
process does not share an interpreter lock with the server it sends to, just as a
worker process does not.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import time
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from typing import Any

from benchkit import LOOPBACK, free_port

_COUNT, _BYTES, _FIRST, _LAST = range(4)


class _CountingHandler:
    """aiosmtpd handler: count the message and accept it, nothing else."""

    def __init__(self, stats: Any) -> None:
        self.stats = stats

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        stats = self.stats
        now = time.monotonic()
        if stats[_COUNT] == 0:
            stats[_FIRST] = now
        stats[_LAST] = now
        stats[_BYTES] += len(envelope.original_content or b"")
        stats[_COUNT] += 1  # last: a reader that sees the count also sees the times
        return "250 2.0.0 Accepted"


def _serve(port: int, stats: Any, ready: Event, stop: Event, lifetime: float) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(_CountingHandler(stats), hostname=LOOPBACK, port=port)
    controller.start()
    ready.set()
    try:
        # Bounded: a sink whose bench died without stopping it still goes away.
        stop.wait(timeout=lifetime)
    finally:
        controller.stop()


@dataclass(frozen=True)
class SinkStats:
    count: int
    bytes: int
    first: float  # time.monotonic() of the first message since the last reset
    last: float


class SmtpSink:
    """Start with ``start()``, point senders at ``url``, read ``stats()``; ``reset()`` between phases."""

    def __init__(self, *, lifetime: float) -> None:
        context = multiprocessing.get_context("spawn")
        self.port = free_port()
        self.url = f"smtp://{LOOPBACK}:{self.port}"
        self._stats = context.RawArray(ctypes.c_double, 4)
        self._ready = context.Event()
        self._stop = context.Event()
        self._process = context.Process(
            target=_serve,
            args=(self.port, self._stats, self._ready, self._stop, lifetime),
            name="smtp-sink",
            daemon=True,
        )

    @property
    def pid(self) -> int:
        return self._process.pid or 0

    def start(self, *, timeout: float = 30) -> None:
        self._process.start()
        if not self._ready.wait(timeout=timeout):
            self.stop()
            raise RuntimeError("the SMTP sink did not start")

    def stop(self) -> None:
        self._stop.set()
        if self._process.is_alive():
            self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout=5)

    def reset(self) -> None:
        """Zero the counters; only while nothing is sending."""
        for index in range(4):
            self._stats[index] = 0.0

    def stats(self) -> SinkStats:
        count = self._stats[_COUNT]  # first: the times read after it are at least as new
        last, first, size = self._stats[_LAST], self._stats[_FIRST], self._stats[_BYTES]
        return SinkStats(count=int(count), bytes=int(size), first=float(first), last=float(last))
