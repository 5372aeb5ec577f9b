"""How many endorsements of an open letter Undersigned accepts per second, and how fast the
open letter's page is with 0, 100,000 and 1,000,000 verified endorsements, against the
bare Django reference on the same machine.

    uv run python bench/endorsements.py [--db sqlite|postgres] [--pg-url URL] [--duration 20]
                                        [--connections 32] [--endorsements-in-db 0,100k,1M]

The machinery is letters.py's (servers, CPU accounting, the reference app, the report's
format); this script adds the open letter. It imports the demo campaigns and the demo
open letter, then for each level of endorsements (bulk-inserted in the database between
levels by ``seed.py endorsements``, the kept counters moving with them) runs:

  reference submit   GET the bare form, POST it
  product endorse    GET /open-letters/<slug>/endorse/, POST a filled-in form (CSRF, the
                     abuse layer's signed form_started, the honeypot left empty); a 302 to
                     the "check your email" page is an endorsement accepted, its
                     confirmation email queued as a task (no worker runs: nothing is sent)
  product page       GET /open-letters/<slug>/ as a first-time visitor
  reference page     GET the bare form page

Aims (issue 4): endorsements accepted/s ≥ 70 % of the reference's inserts/s; the open
letter page at least as fast as the bare form page, and no slower with a million
endorsements. The rate limit is raised and the minimum fill time set to 0 for the run:
every request comes from 127.0.0.1 and the load generator answers at once. The limiter
still runs (two cache updates per POST) and the form's signed timestamp is still checked.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

import loadgen
from benchkit import BENCH_DIR, undersigned_command

import letters as bench

DEMO = Path(__file__).resolve().parents[1] / "src" / "undersigned" / "demo"


def _prepare(env: dict[str, str]) -> str:
    bench._prepare(env)
    for name in ("bus-to-every-trailhead.toml", "open-letter-trailheads.toml"):
        bench.run_command(undersigned_command("import", str(DEMO / name)), env, 120, f"undersigned import {name}")
    raw: dict[str, Any] = tomllib.loads((DEMO / "open-letter-trailheads.toml").read_text(encoding="utf-8"))
    slug = str(raw["open_letter"]["slug"])
    # Open until long after the run, whatever the demo file's deadline.
    bench.run_command(
        undersigned_command(
            "shell",
            "-c",
            "from datetime import timedelta; from django.utils import timezone; "
            "from undersigned.openletters.models import OpenLetter; "
            f"OpenLetter.objects.filter(slug='{slug}').update(deadline=timezone.now() + timedelta(days=365))",
        ),
        env,
        120,
        "open the letter",
    )
    return slug


def _bulk(env: dict[str, str], slug: str, count: int) -> None:
    if count <= 0:
        return
    print(f"\nBulk-inserting {count:,} verified endorsements", flush=True)
    started = time.monotonic()
    out = bench.run_command(
        [sys.executable, str(BENCH_DIR / "seed.py"), "endorsements", "--slug", slug, "--count", str(count)],
        env,
        1800,
        "seed endorsements",
    )
    print(f"  done in {time.monotonic() - started:.0f} s: {out.strip()}", flush=True)


def _level(b: bench.Bench, slug: str, count: int) -> bench.Level:
    endorse = f"/open-letters/{slug}/endorse/"
    page = f"/open-letters/{slug}/"
    print(f"\n== {count:,} verified endorsements in the database ==", flush=True)
    submit_reference = b.phase(
        "reference: form submit", b.reference, lambda vu: loadgen.reference_submit("/form/", vu), page=False
    )
    submit_product = b.phase("product: endorse", b.product, lambda vu: loadgen.product_endorse(endorse, vu), page=False)
    page_product = b.phase("product: open letter page", b.product, lambda vu: loadgen.page_get(page, vu), page=True)
    page_reference = b.phase("reference: form page", b.reference, lambda vu: loadgen.page_get("/form/", vu), page=True)
    return bench.Level(
        count, submit_reference, submit_product, page_product, page_reference, b.product.rss_mb(), b.reference.rss_mb()
    )


def report(levels: list[bench.Level], args: argparse.Namespace) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def row(
        figure: str, values: tuple[float, float | None], unit: str, *, aim: str = "", ok: bool | None = None
    ) -> None:
        product, reference = values
        ratio = product / reference if reference else None
        entry = {"figure": figure, "product": product, "reference": reference, "ratio": ratio, "unit": unit, "aim": aim}
        if ok is not None:
            entry["verdict"] = bench._verdict(ok)
        rows.append(entry)

    for lv in levels:
        n = f"{lv.letters_in_db:,} endorsements"
        sp, sr, pp, pr = lv.submit_product, lv.submit_reference, lv.page_product, lv.page_reference
        aim = f"≥ {bench.SUBMIT_AIM:.0%} of ref"
        ok = sp.result.rate >= bench.SUBMIT_AIM * sr.result.rate
        row(f"endorsements accepted/s ({n})", (sp.result.rate, sr.result.rate), "/s", aim=aim, ok=ok)
        row(f"  POST p99 ({n})", (sp.result.latency_ms(0.99), sr.result.latency_ms(0.99)), "ms")
        ok = sp.capacity >= bench.SUBMIT_AIM * sr.capacity
        row(f"  accepted/s the cores could serve ({n})", (sp.capacity, sr.capacity), "/s", aim=aim, ok=ok)
        aim = "≥ bare form page"
        ok = pp.result.rate >= pr.result.rate
        row(f"page GET/s, {args.connections} conns ({n})", (pp.result.rate, pr.result.rate), "/s", aim=aim, ok=ok)
        row(f"  GET p50 ({n})", (pp.result.latency_ms(0.5), pr.result.latency_ms(0.5)), "ms")
        row(f"  GET p99 ({n})", (pp.result.latency_ms(0.99), pr.result.latency_ms(0.99)), "ms")
        ok = pp.capacity >= pr.capacity
        row(f"  GET/s the cores could serve ({n})", (pp.capacity, pr.capacity), "/s", aim=aim, ok=ok)
        if args.db == "postgres":
            row(f"  CPU per GET, PostgreSQL ({n})", (pp.cpu_db_ms, pr.cpu_db_ms), "ms")
    first = levels[0]
    for lv in levels[1:]:
        versus = f"{lv.letters_in_db:,} vs {first.letters_in_db:,}"
        now, base = lv.page_product, first.page_product
        ok = now.result.rate >= bench.SAME_SPEED * base.result.rate
        row(f"open letter page GET/s, {versus}", (now.result.rate, base.result.rate), "/s", aim="no slower", ok=ok)
        ok = now.capacity >= bench.SAME_SPEED * base.capacity
        row(f"  by CPU, {versus}", (now.capacity, base.capacity), "/s", aim="no slower", ok=ok)
        row(f"  GET p99, {versus}", (now.result.latency_ms(0.99), base.result.latency_ms(0.99)), "ms")
    print(f"\nResults ({args.db}, {args.connections} connections, {args.duration:.0f} s per phase, {bench.CPUS} cores)")
    header = f"{'figure':<56} {'product':>10} {'reference':>10} {'ratio':>7}  aim"
    print(header)
    print("-" * (len(header) + 24))
    for r in rows:
        reference = f"{r['reference']:10.1f}" if r["reference"] is not None else f"{'':>10}"
        ratio = f"{r['ratio']:7.2f}" if r["ratio"] is not None else f"{'':>7}"
        verdict = f"  {r['verdict']}" if "verdict" in r else ""
        print(f"{r['figure']:<56} {r['product']:10.1f} {reference} {ratio}  {r['aim']}{verdict}")
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endorsements-in-db", default="0,100k,1M", help="comma-separated levels")
    own, rest = parser.parse_known_args(argv)
    args = bench._parse_args([*rest, "--letters-in-db", own.endorsements_in_db, "--no-pdf"])
    print(
        f"endorsements.py: {args.db}, {args.workers} workers per server, {args.connections} connections, "
        f"{args.duration:.0f} s per phase (+{args.warmup:.0f} s warm-up), levels {args.levels}",
        flush=True,
    )
    levels: list[bench.Level] = []
    with (
        bench.overall_timeout(args.timeout),
        tempfile.TemporaryDirectory(prefix="undersigned-bench-") as tmp_name,
        bench.database(args, Path(tmp_name)) as database_url,
    ):
        tmp = Path(tmp_name)
        product, reference, env = bench._servers(database_url, tmp, args.workers)
        for server_env in (env, product.env):
            server_env["UNDERSIGNED_RATE_LIMITS"] = "endorse=1000000/m"
            server_env["UNDERSIGNED_FORM_MIN_FILL_SECONDS"] = "0"
        slug = _prepare(env)
        db = bench.DatabaseBackends(database_url if args.db == "postgres" else None)
        try:
            for server in (product, reference):
                server.start()
            for server in (product, reference):
                server.wait_ready()
            b = bench.Bench(args, product, reference, slug, db)
            seeded = 0
            for count in args.levels:
                _bulk(env, slug, count - seeded)
                seeded = count
                levels.append(_level(b, slug, count))
        finally:
            for server in (product, reference):
                server.stop()
            db.close()
    rows = report(levels, args)
    if args.json:
        args.json.write_text(json.dumps({"db": args.db, "cpus": bench.CPUS, "rows": rows}, indent=2))


if __name__ == "__main__":
    try:
        main()
    except bench.OverallTimeout as exc:
        print(f"endorsements.py: {exc}", file=sys.stderr)
        sys.exit(3)
