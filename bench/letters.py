"""How many letters Undersigned accepts per second, against a bare Django form on the same machine.

    uv run python bench/letters.py [--db sqlite|postgres] [--duration 20] [--connections 32]
                                   [--letters-in-db 0,1000000] [--get-client python|wrk]
                                   [--accept-language fr]

Sets up a fresh database (SQLite in a temporary directory, or a PostgreSQL database it
creates and drops), migrates it, imports the demo campaign and starts two gunicorns with
the same worker count: the product (``undersigned serve``) and a bare Django reference
(bench/reference_app.py: a small form page, a three-field form, one INSERT). Then, for
each number of letters already in the database (bulk-inserted between levels):

  reference submit   GET the form, POST it (CSRF cookie and token, like a browser)
  product submit     GET the composer, write a personal paragraph, POST action=continue;
                     a 302 to /l/… is a letter accepted
  product page       GET /c/<slug>/ as a first-time visitor
  reference page     GET the reference's form page

and prints rates, latencies, CPU time per request and the web workers' memory, with the
aims: letters accepted/s ≥ 70 % of the reference's inserts/s; the campaign page at least
as fast as the bare form page, and no slower with a million letters; < 80 MB per worker.
Only 127.0.0.1 is contacted; every phase stops at its deadline and the whole run at
``--timeout``; the servers are stopped and the database dropped whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path
from types import FrameType
from typing import IO, Any

import loadgen
from benchkit import (
    BENCH_DIR,
    LOOPBACK,
    PG_DEFAULT_URL,
    REPO_DIR,
    PostgresDatabase,
    demo_campaign_file,
    django_env,
    free_port,
    undersigned_command,
)

CLK_TCK = os.sysconf("SC_CLK_TCK")
CPUS = os.cpu_count() or 1
RSS_AIM_MB = 80.0
SUBMIT_AIM = 0.70
# Two runs of the same page differ by a few percent here; "no slower" allows for that.
SAME_SPEED = 0.95


class OverallTimeout(BaseException):
    """The run took longer than --timeout (a BaseException, so no phase swallows it)."""


# --- Processes --------------------------------------------------------------------------------------
def _stat_fields(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        raw = f.read()
    return raw[raw.rindex(")") + 2 :].split()  # the command name may contain spaces


def children_of(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        pass
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with suppress(OSError, ValueError):
                if int(_stat_fields(int(entry))[1]) == pid:
                    found.append(int(entry))
    return found


def process_cpu_seconds(pid: int, *, reaped_children: bool) -> float:
    """User + system CPU of a process; with ``reaped_children``, also of its exited, reaped children."""
    try:
        fields = _stat_fields(pid)
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU seconds spent on anything but idle and I/O wait, across all cores."""
    with open("/proc/stat") as f:
        values = [int(x) for x in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / CLK_TCK


def _status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


@dataclass
class Server:
    """One gunicorn (master and sync workers) that this script starts and stops."""

    name: str
    command: list[str]
    env: dict[str, str]
    port: int
    ready_path: str
    workers: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    seen_pids: set[int] = field(default_factory=set)
    _log: IO[bytes] | None = None

    def start(self) -> None:
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=REPO_DIR,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        pids = children_of(self.process.pid)
        self.seen_pids.update(pids)
        return pids

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} server exited ({self.process.returncode}):\n{self.log_tail()}")
            with suppress(OSError):
                conn = HTTPConnection(LOOPBACK, self.port, timeout=5)
                try:
                    conn.request("GET", self.ready_path)
                    status = conn.getresponse().status
                finally:
                    conn.close()
                if status == 200 and len(self.worker_pids()) >= self.workers:
                    return
                if status != 200:
                    raise SystemExit(f"{self.name} answered {status} for {self.ready_path}:\n{self.log_tail()}")
            time.sleep(0.3)
        raise SystemExit(f"{self.name} server did not answer within {timeout:.0f} s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float:
        """Master, live workers, workers that exited (gunicorn recycles them), and the
        processes workers started and waited for (the PDF renderer runs in one)."""
        assert self.process is not None
        total = process_cpu_seconds(self.process.pid, reaped_children=True)
        return total + sum(process_cpu_seconds(pid, reaped_children=True) for pid in self.worker_pids())

    def rss_mb(self) -> list[tuple[float, float]]:
        """(VmRSS, VmHWM) in MB of each live worker."""
        sizes = []
        for pid in self.worker_pids():
            with suppress(OSError):
                sizes.append((_status_kb(pid, "VmRSS") / 1024, _status_kb(pid, "VmHWM") / 1024))
        return sizes

    def helper_rss_mb(self) -> list[float]:
        """VmRSS in MB of the processes the workers started (the PDF helper, one per worker that printed)."""
        sizes = []
        for worker in self.worker_pids():
            for pid in children_of(worker):
                with suppress(OSError):
                    sizes.append(_status_kb(pid, "VmRSS") / 1024)
        return sizes

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            with suppress(OSError):
                self.worker_pids()
            process.terminate()  # gunicorn: graceful stop of the master and its workers
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for pid in self.seen_pids:  # only workers this server started, by id, if still there
            with suppress(OSError):
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                if b"gunicorn" in cmdline and int(_stat_fields(pid)[1]) in (1, process.pid if process else -1):
                    os.kill(pid, signal.SIGKILL)
        if self._log is not None:
            self._log.close()
            self._log = None


def run_command(command: list[str], env: dict[str, str], timeout: float, what: str) -> str:
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, env=env, cwd=REPO_DIR, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise SystemExit(f"{what}: no result within {timeout:.0f} s") from None
    if done.returncode != 0:
        raise SystemExit(f"{what} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    print(f"  {what}: {time.monotonic() - started:.1f} s", flush=True)
    return done.stdout


# --- Measuring --------------------------------------------------------------------------------------
@dataclass
class Measured:
    label: str
    server: str
    result: loadgen.PhaseResult
    cpu_server_ms: float  # per completed loop (a letter = GET + POST; a page view = GET)
    cpu_db_ms: float  # PostgreSQL backends serving this database (SQLite works inside the web workers)
    cpu_client_ms: float
    cpu_other_ms: float  # the kernel, PostgreSQL's background processes, other people's work on the machine
    machine_busy: float  # share of all cores busy during the phase
    background: float  # share of all cores busy just before the phase, with our servers idle

    @property
    def capacity(self) -> float:
        """Loops per second the machine's cores could serve if they did nothing but web and database work."""
        return CPUS * 1000 / max(self.cpu_server_ms + self.cpu_db_ms, 1e-9)


def _client_cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def background_busy(seconds: float = 1.0) -> float:
    """Share of the machine busy while our servers idle: other people's work shares these cores."""
    before = machine_busy_seconds()
    time.sleep(seconds)
    return (machine_busy_seconds() - before) / (seconds * CPUS)


class DatabaseBackends:
    """CPU time of the PostgreSQL backend processes connected to the benchmark's database."""

    def __init__(self, url: str | None) -> None:
        self._conn: Any = None
        if url is not None:
            import psycopg

            self._conn = psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True)

    def cpu(self) -> dict[int, float]:
        if self._conn is None:
            return {}
        rows = self._conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
        return {pid: process_cpu_seconds(pid, reaped_children=False) for (pid,) in rows}

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def _measure(
    label: str, server: Server, db: DatabaseBackends, run: Callable[[], loadgen.PhaseResult], *, background: float
) -> Measured:
    db_before = db.cpu()
    before = (server.cpu_seconds(), _client_cpu(), machine_busy_seconds())
    result = run()
    after = (server.cpu_seconds(), _client_cpu(), machine_busy_seconds())
    db_after = db.cpu()
    # A backend that exited during the phase is missed; Django keeps connections for 60 s.
    d_db = sum(cpu - db_before.get(pid, 0.0) for pid, cpu in db_after.items())
    d_server, d_client, d_busy = (a - b for a, b in zip(after, before, strict=True))
    per = 1000 / max(result.ok, 1)
    return Measured(
        label=label,
        server=server.name,
        result=result,
        cpu_server_ms=d_server * per,
        cpu_db_ms=d_db * per,
        cpu_client_ms=d_client * per,
        cpu_other_ms=max(0.0, d_busy - d_server - d_client - d_db) * per,
        machine_busy=d_busy / (result.seconds * CPUS),
        background=background,
    )


_WRK_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
_WRK_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_WRK_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_WRK_TOTAL = re.compile(r"(\d+) requests in ([\d.]+)s")


def wrk_get(port: int, path: str, connections: int, duration: float) -> loadgen.PhaseResult:
    """The page phase with wrk (C, so the client takes less of the two cores than Python)."""
    wrk = shutil.which("wrk")
    assert wrk is not None
    command = [wrk, "-t2", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency"]
    if loadgen.ACCEPT_LANGUAGE:
        command += ["-H", f"Accept-Language: {loadgen.ACCEPT_LANGUAGE}"]
    out = subprocess.run(
        [*command, f"http://{LOOPBACK}:{port}{path}"], capture_output=True, text=True, timeout=duration + 60, check=True
    ).stdout
    total = _WRK_TOTAL.search(out)
    rate = _WRK_RATE.search(out)
    if total is None or rate is None:
        raise SystemExit(f"could not read wrk's output:\n{out}")
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0}
    marks = {int(p): float(v) * scale[u] for p, v, u in _WRK_LATENCY.findall(out)}
    bad = _WRK_NON_2XX.search(out)
    errors = int(bad.group(1)) if bad else 0
    requests, seconds = int(total.group(1)), float(total.group(2))
    result = loadgen.PhaseResult(name="", seconds=seconds, ok=requests - errors, requests=requests)
    # wrk reports percentiles, not samples: keep them as a two-point list percentile() reads right.
    result.latencies = [marks.get(50, 0.0)] * 50 + [marks.get(99, 0.0)] * 49 + [marks.get(99, 0.0)]
    if errors:
        result.errors["non-2xx responses"] = errors
    return result


@dataclass
class Level:
    letters_in_db: int
    submit_reference: Measured
    submit_product: Measured
    page_product: Measured
    page_reference: Measured
    rss_product: list[tuple[float, float]]
    rss_reference: list[tuple[float, float]]
    pdf: Measured | None = None
    rss_after_pdf: list[tuple[float, float]] = field(default_factory=list)
    helper_rss: list[float] = field(default_factory=list)
    # The page of a second campaign that never gets letters, measured at each level right
    # after the first: the same machine, database and moment, without the letters.
    page_control: Measured | None = None


@dataclass
class Bench:
    args: argparse.Namespace
    product: Server
    reference: Server
    slug: str
    db: DatabaseBackends
    control_slug: str = ""

    def phase(self, label: str, server: Server, make_flow: Callable[[int], loadgen.Flow], *, page: bool) -> Measured:
        connections, duration = self.args.connections, self.args.duration
        use_wrk = page and self.args.get_client == "wrk"
        path = "" if not page else (f"/c/{self.slug}/" if server is self.product else "/form/")

        def run(seconds: float) -> loadgen.PhaseResult:
            if use_wrk:
                return wrk_get(server.port, path, connections, seconds)
            return loadgen.run_phase(server.port, make_flow, connections=connections, duration=seconds)

        tries = []
        for _ in range(self.args.repeat):
            background = background_busy()  # before the warm-up: our servers are idle now
            if self.args.warmup > 0:
                run(self.args.warmup)  # every worker imports and caches what it needs, connects to the database
            measured = _measure(label, server, self.db, lambda: run(duration), background=background)
            measured.result.name = label
            _print_phase(measured)
            tries.append(measured)
        # On a shared machine, keep the try that other work disturbed least.
        return min(tries, key=lambda m: m.cpu_other_ms * m.result.ok / max(m.result.seconds, 1e-9))

    def level(self, letters_in_db: int) -> Level:
        compose = f"/c/{self.slug}/write/"
        print(f"\n== {letters_in_db:,} letters in the database ==", flush=True)
        submit_reference = self.phase(
            "reference: form submit", self.reference, lambda vu: loadgen.reference_submit("/form/", vu), page=False
        )
        submit_product = self.phase(
            "product: letter submit", self.product, lambda vu: loadgen.product_submit(compose, vu), page=False
        )
        page_product = self.phase(
            "product: campaign page", self.product, lambda vu: loadgen.page_get(f"/c/{self.slug}/", vu), page=True
        )
        page_control = None
        if self.control_slug:
            control = f"/c/{self.control_slug}/"
            page_control = self.phase(
                "product: page of a campaign without letters",
                self.product,
                lambda vu: loadgen.page_get(control, vu),
                page=True,
            )
        page_reference = self.phase(
            "reference: form page", self.reference, lambda vu: loadgen.page_get("/form/", vu), page=True
        )
        level = Level(
            letters_in_db,
            submit_reference,
            submit_product,
            page_product,
            page_reference,
            self.product.rss_mb(),
            self.reference.rss_mb(),
            page_control=page_control,
        )
        if self.args.pdf and letters_in_db == self.args.levels[-1]:
            # Printing imports typst and loads fonts: how big does a worker get once it has printed?
            # Last, so that no other phase runs on workers that have printed.
            level.pdf = self.phase(
                "product: letter PDF", self.product, lambda vu: loadgen.product_pdf(compose, vu), page=False
            )
            level.rss_after_pdf = self.product.rss_mb()
            level.helper_rss = self.product.helper_rss_mb()
        return level


def _print_phase(m: Measured) -> None:
    r = m.result
    errors = sum(r.errors.values())
    print(
        f"  {m.label:<26} {r.rate:8.1f}/s  p50 {r.latency_ms(0.5):7.1f} ms  p99 {r.latency_ms(0.99):7.1f} ms"
        f"  ok {r.ok:>6}  err {errors:>3}  CPU/op ms: web {m.cpu_server_ms:5.1f} db {m.cpu_db_ms:4.1f}"
        f" client {m.cpu_client_ms:4.1f} other {m.cpu_other_ms:5.1f}"
        f"  (busy {m.machine_busy:4.0%}, before {m.background:4.0%})",
        flush=True,
    )
    for message, count in r.errors.most_common(3):
        print(f"      {count} × {message}", flush=True)


# --- The report --------------------------------------------------------------------------------------
def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def _rows(levels: list[Level], args: argparse.Namespace) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def row(
        figure: str, values: tuple[float, float | None], unit: str, *, aim: str = "", ok: bool | None = None
    ) -> None:
        product, reference = values
        # No ratio to a (near) zero, e.g. the database time of a page that reads nothing.
        ratio = product / reference if reference is not None and abs(reference) >= 0.05 else None
        rows.append(
            {"figure": figure, "product": product, "reference": reference, "ratio": ratio, "unit": unit, "aim": aim}
            | ({"verdict": _verdict(ok)} if ok is not None else {})
        )

    for lv in levels:
        n = f"{lv.letters_in_db:,} letters"
        sp, sr = lv.submit_product, lv.submit_reference
        aim = f"≥ {SUBMIT_AIM:.0%} of ref"
        row(
            f"letters accepted/s ({n})",
            (sp.result.rate, sr.result.rate),
            "/s",
            aim=aim,
            ok=sp.result.rate >= SUBMIT_AIM * sr.result.rate,
        )
        row(f"  POST p50 ({n})", (sp.result.latency_ms(0.5), sr.result.latency_ms(0.5)), "ms")
        row(f"  POST p99 ({n})", (sp.result.latency_ms(0.99), sr.result.latency_ms(0.99)), "ms")
        row(f"  CPU per letter (GET+POST), web ({n})", (sp.cpu_server_ms, sr.cpu_server_ms), "ms")
        if args.db == "postgres":
            row(f"  CPU per letter, PostgreSQL ({n})", (sp.cpu_db_ms, sr.cpu_db_ms), "ms")
        row(
            f"  letters/s the cores could serve ({n})",
            (sp.capacity, sr.capacity),
            "/s",
            aim=aim,
            ok=sp.capacity >= SUBMIT_AIM * sr.capacity,
        )
        pp, pr = lv.page_product, lv.page_reference
        aim = "≥ bare form page"
        row(
            f"page GET/s, {args.connections} conns ({n})",
            (pp.result.rate, pr.result.rate),
            "/s",
            aim=aim,
            ok=pp.result.rate >= pr.result.rate,
        )
        row(f"  GET p50 ({n})", (pp.result.latency_ms(0.5), pr.result.latency_ms(0.5)), "ms")
        row(f"  GET p99 ({n})", (pp.result.latency_ms(0.99), pr.result.latency_ms(0.99)), "ms")
        row(f"  CPU per GET, web ({n})", (pp.cpu_server_ms, pr.cpu_server_ms), "ms")
        if args.db == "postgres":
            row(f"  CPU per GET, PostgreSQL ({n})", (pp.cpu_db_ms, pr.cpu_db_ms), "ms")
        row(
            f"  GET/s the cores could serve ({n})",
            (pp.capacity, pr.capacity),
            "/s",
            aim=aim,
            ok=pp.capacity >= pr.capacity,
        )
        worst = (
            max((rss for rss, _ in lv.rss_product), default=0.0),
            max((rss for rss, _ in lv.rss_reference), default=0.0),
        )
        row(f"max RSS per web worker ({n})", worst, "MB", aim=f"< {RSS_AIM_MB:.0f} MB", ok=worst[0] < RSS_AIM_MB)
        peaks = (
            max((hwm for _, hwm in lv.rss_product), default=0.0),
            max((hwm for _, hwm in lv.rss_reference), default=0.0),
        )
        row(f"  max peak RSS (VmHWM) ({n})", peaks, "MB")
        if lv.pdf is not None:
            row(f"letter PDFs/s ({n})", (lv.pdf.result.rate, None), "/s")
            row(f"  PDF p50 ({n})", (lv.pdf.result.latency_ms(0.5), None), "ms")
            row(f"  CPU per PDF, web ({n})", (lv.pdf.cpu_server_ms, None), "ms")
            after = max((rss for rss, _ in lv.rss_after_pdf), default=0.0)
            row(
                f"max RSS per web worker after PDFs ({n})",
                (after, None),
                "MB",
                aim=f"< {RSS_AIM_MB:.0f} MB",
                ok=after < RSS_AIM_MB,
            )
            helpers = lv.helper_rss
            row(f"  PDF helpers running, each exits when idle ({n})", (float(len(helpers)), None), "")
            row(f"  max RSS per PDF helper ({n})", (max(helpers, default=0.0), None), "MB")
    first = levels[0]
    for lv in levels[1:]:
        _versus_rows(first, lv, row)
    return rows


def _versus_rows(first: Level, lv: Level, row: Callable[..., None]) -> None:
    """The rows that compare a level with the first."""
    versus = f"{lv.letters_in_db:,} vs {first.letters_in_db:,} letters"
    now, base = lv.page_product, first.page_product
    if lv.page_control is not None and first.page_control is not None:
        # The aim, measured within each level: the page of the campaign that has the
        # letters against the page of one that has none, at that level and at the first.
        # Comparing levels directly also compares two states of the machine (after a
        # bulk insert the bare form page, which reads no table, is slower too).
        ratio_now = now.capacity / max(lv.page_control.capacity, 1e-9)
        ratio_base = base.capacity / max(first.page_control.capacity, 1e-9)
        row(
            f"campaign page by CPU ÷ a campaign without letters, {versus}",
            (ratio_now, ratio_base),
            "",
            aim="no slower",
            ok=ratio_now >= SAME_SPEED * ratio_base,
        )
        ratio_now = now.result.rate / max(lv.page_control.result.rate, 1e-9)
        ratio_base = base.result.rate / max(first.page_control.result.rate, 1e-9)
        row(f"  the same by GET/s, {versus}", (ratio_now, ratio_base), "", aim="no slower",
            ok=ratio_now >= SAME_SPEED * ratio_base)  # fmt: skip
        row(f"campaign page GET/s, {versus}", (now.result.rate, base.result.rate), "/s")
        row(f"  campaign page GET/s by CPU, {versus}", (now.capacity, base.capacity), "/s")
        bare = (lv.page_reference.capacity, first.page_reference.capacity)
        row(f"  bare form page GET/s by CPU, {versus}", bare, "/s")
    else:
        ok = now.result.rate >= SAME_SPEED * base.result.rate
        row(f"campaign page GET/s, {versus}", (now.result.rate, base.result.rate), "/s", aim="no slower", ok=ok)
        ok = now.capacity >= SAME_SPEED * base.capacity
        row(f"  campaign page GET/s by CPU, {versus}", (now.capacity, base.capacity), "/s", aim="no slower", ok=ok)
    row(f"letters accepted/s, {versus}", (lv.submit_product.result.rate, first.submit_product.result.rate), "/s")


def report(levels: list[Level], args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = _rows(levels, args)

    phases = [m for lv in levels for m in (lv.submit_reference, lv.submit_product, lv.page_product, lv.page_reference)]
    background = sum(m.background for m in phases) / len(phases)
    print(f"\nResults ({args.db}, {args.connections} connections, {args.duration:.0f} s per phase, {CPUS} cores)")
    if background > 0.05:
        print(
            f"Note: other work kept {background:.0%} of the cores busy before the phases (mean); the rates above "
            "understate what the servers do alone. The 'could serve' rows divide the cores by the CPU time each "
            "request took and depend much less on that."
        )
    header = f"{'figure':<52} {'product':>10} {'reference':>10} {'ratio':>7}  aim"
    print(header)
    print("-" * (len(header) + 24))
    for r in rows:
        places = 2 if r["unit"] == "" and abs(r["product"]) < 10 else 1  # ratios of ratios
        reference = f"{r['reference']:10.{places}f}" if r["reference"] is not None else f"{'':>10}"
        ratio = f"{r['ratio']:7.2f}" if r["ratio"] is not None else f"{'':>7}"
        verdict = f"  {r['verdict']}" if "verdict" in r else ""
        print(f"{r['figure']:<52} {r['product']:10.{places}f} {reference} {ratio}  {r['aim']}{verdict}")
    return rows


# --- Set-up and the run ---------------------------------------------------------------------------
def _levels(raw: str) -> list[int]:
    levels = []
    for part in raw.split(","):
        text = part.strip().lower().replace("_", "")
        factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
        levels.append(int(float(text.rstrip("km")) * factor))
    return sorted(set(levels))


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--pg-url", default=PG_DEFAULT_URL, help="a database on 127.0.0.1 whose name contains 'bench'")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per measured phase")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of unmeasured load before each phase")
    parser.add_argument("--connections", type=int, default=32, help="virtual users (connections) per phase")
    parser.add_argument("--workers", type=int, default=2 * CPUS, help="gunicorn workers per server")
    parser.add_argument("--letters-in-db", default="0,1000000", help="comma-separated levels, e.g. 0,100k,1M")
    parser.add_argument("--get-client", choices=["python", "wrk"], default="python", help="load generator for GETs")
    parser.add_argument(
        "--repeat", type=int, default=1, help="run each phase N times, keep the one other work disturbed least"
    )
    parser.add_argument("--no-pdf", dest="pdf", action="store_false", help="skip the letter PDF phase")
    parser.add_argument("--timeout", type=float, default=1800.0, help="hard limit for the whole run, seconds")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--accept-language", default="", help="send this Accept-Language with every request (e.g. fr): the pages in it"
    )
    args = parser.parse_args(argv)
    loadgen.ACCEPT_LANGUAGE = args.accept_language
    args.levels = _levels(args.letters_in_db)
    if not 1 <= args.connections <= 512 or not 0.5 <= args.duration <= 600 or not 1 <= args.repeat <= 10:
        parser.error("--connections must be 1–512, --duration 0.5–600 s and --repeat 1–10")
    if args.get_client == "wrk" and shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install wrk), use --get-client python")
    return args


@contextmanager
def overall_timeout(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: FrameType | None) -> None:
        raise OverallTimeout(f"the run took longer than --timeout {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(max(1, int(seconds)))
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def database(args: argparse.Namespace, tmp: Path) -> Iterator[str]:
    if args.db == "sqlite":
        yield f"sqlite:///{tmp / 'bench.sqlite3'}"
        return
    pg = PostgresDatabase(args.pg_url)
    pg.create()
    try:
        yield args.pg_url
    finally:
        pg.drop()


def _servers(database_url: str, tmp: Path, workers: int) -> tuple[Server, Server, dict[str, str]]:
    secret = secrets.token_urlsafe(50)
    product_port, reference_port = free_port(), free_port()
    product_env = django_env(
        dict(os.environ),
        database_url=database_url,
        var_dir=tmp / "var",
        base_url=f"http://{LOOPBACK}:{product_port}",
        secret_key=secret,
    )
    reference_env = django_env(
        dict(os.environ),
        database_url=database_url,
        var_dir=tmp / "var",
        base_url=f"http://{LOOPBACK}:{reference_port}",
        secret_key=secret,
    )
    # The abuse layer stays on: the honeypot, the signed form timestamp and the letter
    # rate limit's counter in the cache are checked on every POST. Only its thresholds
    # are lifted, since one load generator on 127.0.0.1 plays 32 quick writers: a
    # minimum fill time of 0 s, and a rate limit they never reach.
    product_env.update(UNDERSIGNED_FORM_MIN_FILL_SECONDS="0", UNDERSIGNED_RATE_LIMITS="compose=1000000/m")
    # No worker restarts during a run (production: every ~5,000 requests). A restart costs
    # a worker's start-up, about 2 s of CPU, and it landed on whichever phase it fell in:
    # at the 1,000,000 level, a phase of 2,000 letters took 4.5 ms more CPU per letter.
    # Spread over 5,000 requests it is about 0.4 ms each, for product and reference alike.
    product_env["UNDERSIGNED_WEB_MAX_REQUESTS"] = "0"
    reference_env["PYTHONPATH"] = os.pathsep.join(p for p in (str(BENCH_DIR), os.environ.get("PYTHONPATH")) if p)
    reference_env["DJANGO_SETTINGS_MODULE"] = "reference_settings"
    product = Server(
        name="product",
        command=undersigned_command("serve", "--bind", f"{LOOPBACK}:{product_port}", "--workers", str(workers)),
        env=product_env,
        port=product_port,
        ready_path="/",
        workers=workers,
        log_path=tmp / "product.log",
    )
    reference = Server(
        name="reference",
        command=_reference_command(f"{LOOPBACK}:{reference_port}", workers),
        env=reference_env,
        port=reference_port,
        ready_path="/form/",
        workers=workers,
        log_path=tmp / "reference.log",
    )
    return product, reference, product_env


def _reference_command(bind: str, workers: int) -> list[str]:
    """The product's own gunicorn command line (same flags) with the reference's WSGI module."""
    from undersigned.cli import _serve_command  # the flags `undersigned serve` uses, kept in one place

    command = _serve_command(bind, workers, 0)  # no worker restarts during a run, as for the product
    command[command.index("undersigned.wsgi:application")] = "reference_wsgi:application"
    return command


def _prepare(env: dict[str, str]) -> str:
    print("Setting up the database", flush=True)
    run_command(undersigned_command("migrate", "--noinput"), env, 600, "undersigned migrate")
    run_command(undersigned_command("createcachetable"), env, 120, "undersigned createcachetable")
    campaign_file = demo_campaign_file()
    if campaign_file is not None:
        run_command(
            undersigned_command("import", str(campaign_file)), env, 120, f"undersigned import {campaign_file.name}"
        )
        slug = str(tomllib.loads(campaign_file.read_text())["campaign"]["slug"])
    seed = json.loads(run_command([sys.executable, str(BENCH_DIR / "seed.py"), "prepare"], env, 120, "seed prepare"))
    return str(seed["slug"]) if campaign_file is None else slug


def _control_campaign(env: dict[str, str]) -> str:
    """A second demo campaign that gets no letters (its page is the control); "" if none."""
    path = demo_campaign_file()
    control = path.with_name("bus-to-every-trailhead.toml") if path is not None else None
    if control is None or not control.is_file():
        return ""
    run_command(undersigned_command("import", str(control)), env, 120, f"undersigned import {control.name}")
    return str(tomllib.loads(control.read_text())["campaign"]["slug"])


def _bulk_letters(env: dict[str, str], slug: str, count: int) -> None:
    if count <= 0:
        return
    print(f"\nBulk-inserting {count:,} supporters and letters", flush=True)
    command = [sys.executable, str(BENCH_DIR / "seed.py"), "letters", "--slug", slug, "--count", str(count)]
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, cwd=REPO_DIR, stdout=subprocess.PIPE, text=True)
    try:
        out, _ = process.communicate(timeout=1200)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise SystemExit("bulk insert took longer than 20 minutes") from None
    if process.returncode != 0:
        raise SystemExit(f"bulk insert failed ({process.returncode})")
    print(f"  done in {time.monotonic() - started:.0f} s: {out.strip()}", flush=True)


def main(argv: list[str] | None = None) -> None:
    args = _parse_args(argv)
    print(
        f"letters.py: {args.db}, {args.workers} workers per server, {args.connections} connections, "
        f"{args.duration:.0f} s per phase (+{args.warmup:.0f} s warm-up), levels {args.levels}, "
        f"GETs by {args.get_client}, Accept-Language: {args.accept_language or '(none)'}",
        flush=True,
    )
    levels: list[Level] = []
    with (
        overall_timeout(args.timeout),
        tempfile.TemporaryDirectory(prefix="undersigned-bench-") as tmp_name,
        database(args, Path(tmp_name)) as database_url,
    ):
        tmp = Path(tmp_name)
        product, reference, env = _servers(database_url, tmp, args.workers)
        slug = _prepare(env)
        control_slug = _control_campaign(env)
        db = DatabaseBackends(database_url if args.db == "postgres" else None)
        try:
            for server in (product, reference):
                server.start()
            for server in (product, reference):
                server.wait_ready()
            bench = Bench(args, product, reference, slug, db, control_slug)
            seeded = 0
            for letters_in_db in args.levels:
                _bulk_letters(env, slug, letters_in_db - seeded)
                seeded = letters_in_db
                levels.append(bench.level(letters_in_db))
        finally:
            for server in (product, reference):
                server.stop()
            db.close()
    rows = report(levels, args)
    if args.json:
        args.json.write_text(
            json.dumps({"db": args.db, "cpus": CPUS, "args": vars(args) | {"json": None}, "rows": rows}, indent=2)
        )


if __name__ == "__main__":
    try:
        main()
    except OverallTimeout as exc:  # the servers are stopped and the database dropped by then
        print(f"letters.py: {exc}", file=sys.stderr)
        sys.exit(3)
