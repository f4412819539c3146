#!/usr/bin/env python3
"""Benchmark: grouping new entries into stories as the store grows.

For each store size (default 10k, 100k and 1M entries, already grouped into stories) a
fresh process builds a SQLite store whose entries arrive at a steady rate (default 5,000
a day, so 1M entries span 200 days), then adds a batch of new entries (default 1,000)
and times `pipeline.group_new_entries` on it: embedding the new entries, reading the
window's stored vectors, the candidate search, deciding and writing. With --embedded the
new entries arrive with their vectors, as a poll stores them (they are made in the parser
processes), and the time is grouping's alone. The per-entry cost
must not grow with the store: only the dedupe window (3 days) is loaded, whatever lies
before it.

    python scripts/bench_stories.py                 # 10k 100k 1M
    python scripts/bench_stories.py --sizes 10000 100000
    python scripts/bench_stories.py --sizes 100000 --batch 80000   # a big first import
    python scripts/bench_stories.py --sizes 100000 --batch 80000 --embedded
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def vocabulary(rng: random.Random, size: int) -> list[str]:
    syllables = [
        "ka",
        "lo",
        "mi",
        "ren",
        "tor",
        "vex",
        "qui",
        "sa",
        "del",
        "pra",
        "zu",
        "nor",
        "fen",
        "gla",
        "oro",
        "bri",
        "tum",
        "wen",
        "lys",
        "cad",
    ]
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def make_rows(
    count: int,
    start: datetime,
    end: datetime,
    rng: random.Random,
    words: list[str],
    weights: list[float],
    story_base: int,
) -> list[tuple[Any, ...]]:
    """Rows with signatures written directly (the words are already tokens): computing
    a million signatures from text would make the setup, not the measurement, slow."""
    rows = []
    span = (end - start).total_seconds()
    for i in range(count):
        when = start + timedelta(seconds=span * i / max(1, count))
        event = rng.choices(words, cum_weights=weights, k=6)
        title = " ".join(w.capitalize() if j < 2 else w for j, w in enumerate(event))
        body = rng.choices(words, cum_weights=weights, k=30)
        text = " ".join(body)
        signature = " ".join([*(f"t:{w}" for w in event), *(f"e:{w}" for w in event[:2]), *body])
        story = f"s{story_base + i // 3:09d}" if story_base >= 0 else None
        rows.append(
            (
                1 + i % 500,
                f"k{story_base}-{i}",
                f"https://e.example/{story_base}/{i}",
                f"https://e.example/{story_base}/{i}",
                title,
                "",
                text,
                "[]",
                when.replace(tzinfo=None),
                when.replace(tzinfo=None),
                when.replace(tzinfo=None),
                f"h{i}",
                story,
                signature,
            )
        )
    return rows


def config_for(path: Path):  # type: ignore[no-untyped-def]
    from aggregator.config import parse_config

    feeds = "\n".join(f"  - url: https://f{i}.example/feed" for i in range(500))
    return parse_config(f"feeds:\n{feeds}\n", base_dir=path.parent, store_url=f"sqlite:///{path}")


def build(path: Path, size: int, batch: int, per_day: int, embedded: bool) -> dict[str, float]:
    """Write a store of `size` grouped entries and `batch` new ones (its own process)."""
    from aggregator.store import Store
    from aggregator.stories.vectors import encode

    rng = random.Random(size)
    words = vocabulary(rng, 20000)
    weights = list(accumulate(1 / (rank + 1) for rank in range(len(words))))  # Zipf-like
    config = config_for(path)
    store = Store(config.store_url, create=True)
    store.sync_sources(config.sources)
    store.close()
    started = time.monotonic()
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    insert = (
        "insert into entries (source_id, key, url, canonical_url, title, summary_html, "
        "text, tags, published, updated, first_seen, content_hash, story_id, signature, "
        "vector) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    days = size / per_day
    step = 100_000
    for chunk in range(0, size, step):  # in chunks: the setup must not need the memory
        count = min(step, size - chunk)
        start = NOW - timedelta(days=days * (1 - chunk / size))
        end = NOW - timedelta(days=days * (1 - (chunk + count) / size)) - timedelta(hours=1)
        rows = make_rows(count, start, end, rng, words, weights, story_base=chunk)
        created: dict[str, datetime] = {}
        for r in rows:
            created.setdefault(r[12], r[8])
        db.executemany("insert into stories (id, created) values (?, ?)", created.items())
        # Stored entries carry their vectors, as the pipeline leaves them.
        vectors = encode([(r[4], r[6], r[13]) for r in rows])
        db.executemany(insert, [(*r, v) for r, v in zip(rows, vectors, strict=True)])
    new = make_rows(batch, NOW - timedelta(minutes=50), NOW, rng, words, weights, story_base=-1)
    fresh = encode([(r[4], r[6], r[13]) for r in new]) if embedded else [None] * len(new)
    db.executemany(
        insert,
        [
            (*r[:1], f"new-{i}", *r[2:12], None, r[13], v)
            for i, (r, v) in enumerate(zip(new, fresh, strict=True))
        ],
    )
    db.commit()
    db.close()
    return {"setup_seconds": time.monotonic() - started}


def group(path: Path, size: int, per_day: int) -> dict[str, float]:
    """Time grouping the new entries (its own process, so that peak memory is its own)."""
    from aggregator.run.pipeline import group_new_entries
    from aggregator.store import Store

    config = config_for(path)
    store = Store(config.store_url)
    started = time.monotonic()
    placed = group_new_entries(config, store, NOW)
    seconds = time.monotonic() - started
    store.close()
    return {
        "size": size,
        "placed": placed,
        "seconds": seconds,
        "ms_per_entry": 1000 * seconds / placed,
        "window_entries": min(size, int(per_day * config.dedupe.window.days)),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_child(*args: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--per-day", type=int, default=5000)
    parser.add_argument(
        "--embedded", action="store_true", help="new entries arrive with their vectors"
    )
    parser.add_argument("--build", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--group", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        size = int(args.build[1])
        print(json.dumps(build(Path(args.build[0]), size, args.batch, args.per_day, args.embedded)))
        return
    if args.group:
        print(json.dumps(group(Path(args.group[0]), int(args.group[1]), args.per_day)))
        return
    print(
        f"{'stored':>9} {'in window':>9} {'new':>5} {'seconds':>8} {'ms/entry':>9} "
        f"{'peak RSS MB':>12} {'setup s':>8}"
    )
    results = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "bench.sqlite")
            common = ["--batch", str(args.batch), "--per-day", str(args.per_day)]
            embedded = ["--embedded"] if args.embedded else []
            setup = run_child("--build", path, str(size), *common, *embedded)
            r = {**run_child("--group", path, str(size), *common), **setup}
        results.append(r)
        print(
            f"{r['size']:>9} {r['window_entries']:>9} {r['placed']:>5} {r['seconds']:>8.2f} "
            f"{r['ms_per_entry']:>9.2f} {r['peak_rss_mb']:>12.0f} {r['setup_seconds']:>8.1f}",
            flush=True,
        )
    if len(results) > 1:
        ratio = results[-1]["ms_per_entry"] / results[0]["ms_per_entry"]
        print(
            f"time per new entry, {results[-1]['size']} vs {results[0]['size']} stored: "
            f"{ratio:.2f}x (target: within 1.5x)"
        )


if __name__ == "__main__":
    main()
