#!/usr/bin/env python3
"""Benchmark: one cold `run --once` over a loopback farm, with different worker counts.

Fetching waits on the network; parsing and normalising hold the GIL. On a 2-core machine
the question is whether parsing starves (workers idle while one thread parses) or the
pool keeps both cores busy. Prints wall time, CPU time (user+sys) and CPU/wall for each
worker count, on the same farm (default 300 feeds x 40 entries, RSS 2.0).

    python scripts/bench_poll.py --feeds 300 --entries 40 --workers 1 4 16
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from itertools import accumulate
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_stories import vocabulary

from aggregator.config import parse_config
from aggregator.demo import serve_files
from aggregator.fetch import Fetcher
from aggregator.pipeline import run_once
from aggregator.store import Store

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def farm(feeds: int, entries: int) -> dict[str, bytes]:
    """Feeds of made-up words with Zipf-like frequencies, as text has (a vocabulary of
    a few thousand words, a few common and most rare)."""
    rng = random.Random(feeds * 1000 + entries)
    words = vocabulary(rng, 8000)
    cumulative = list(accumulate(1 / (rank + 1) for rank in range(len(words))))
    files = {}
    for f in range(feeds):
        items = []
        for e in range(entries):
            title = " ".join(rng.choices(words, cum_weights=cumulative, k=8))
            body = " ".join(rng.choices(words, cum_weights=cumulative, k=120))
            when = format_datetime(NOW - timedelta(minutes=f + e * 37), usegmt=True)
            items.append(
                f"<item><title>{title} {f}-{e}</title>"
                f"<link>https://f{f}.example/{e}</link><guid>f{f}-{e}</guid>"
                f"<pubDate>{when}</pubDate><description>{escape(f'<p>{body}</p>')}"
                "</description></item>"
            )
        files[f"{f}.xml"] = (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>F{f}'
            "</title><link>https://example.com/</link><description>d"
            f"</description>{''.join(items)}</channel></rss>"
        ).encode()
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=300)
    parser.add_argument("--entries", type=int, default=40)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4, 16])
    args = parser.parse_args()
    files = farm(args.feeds, args.entries)
    print(f"{args.feeds} feeds x {args.entries} entries, {os.cpu_count()} cores")
    print(f"{'workers':>7} {'wall s':>7} {'cpu s':>7} {'cpu/wall':>8} {'entries':>8}")
    with serve_files(files) as base:
        for workers in args.workers:
            with tempfile.TemporaryDirectory() as tmp:
                feeds = "\n".join(f"  - url: {base}{name}" for name in files)
                config = parse_config(
                    f"fetch: {{workers: {workers}, per_host: {workers}}}\nfeeds:\n{feeds}\n",
                    base_dir=Path(tmp),
                )
                store = Store(config.store_url)
                cpu, wall = time.process_time(), time.monotonic()
                report = run_once(config, store, Fetcher(config.fetch), NOW)
                wall, cpu = time.monotonic() - wall, time.process_time() - cpu
                stored = sum(f.new for f in report.feeds)
                store.close()
            print(
                f"{workers:>7} {wall:>7.1f} {cpu:>7.1f} {cpu / wall:>8.2f} {stored:>8}", flush=True
            )


if __name__ == "__main__":
    main()
