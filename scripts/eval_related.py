#!/usr/bin/env python3
"""Measure related stories end to end through the CLI, on the labelled real headlines of
../shared/labelled/ (or the generated set): the entries are served as RSS feeds on
127.0.0.1, their dates moved as one block to end an hour ago (gaps kept), `aggregator run
--once` publishes every story, and each published item's related links (feed.atom,
rel="related") are checked against the labels:

- precision@4: the share of links to a story of the same topic that is not the item's
  own labelled story;
- into own story: the share of links to an entry of the item's own labelled story (a
  story split in two, linking to itself);
- items with fewer links than `related` while the window holds enough stories.

    python scripts/eval_related.py [--set uci|synthetic]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_stories import UCI, rss, synthetic_rows, uci_rows

from aggregator.demo import serve_files

ATOM = "{http://www.w3.org/2005/Atom}"


def shifted(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The rows with their dates moved to end an hour ago, gaps unchanged."""
    dates = [parsedate_to_datetime(r["date"]) for r in rows]
    shift = datetime.now(UTC) - timedelta(hours=1) - max(dates)
    return [
        {**r, "date": format_datetime(d + shift, usegmt=True)}
        for r, d in zip(rows, dates, strict=True)
    ]


def publish(rows: list[dict[str, str]]) -> tuple[bytes, dict[str, str]]:
    """feed.atom of a run over the rows, and each entry's story id (by URL)."""
    by_source: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_source[row["source"]].append(row)
    files = {f"{i}.xml": rss(items) for i, items in enumerate(by_source.values())}
    with serve_files(files) as base, tempfile.TemporaryDirectory() as tmp:
        lines = ["publish: {window: 5d, max_items: 10000, min_score: 0}", "max_age: 30d"]
        lines += ["fetch: {workers: 16}", "feeds:"]
        lines += [f"  - url: {base}{name}\n    name: s{name}" for name in files]
        config = Path(tmp) / "feeds.yaml"
        config.write_text("\n".join(lines) + "\n")
        cli = [sys.executable, "-m", "aggregator", "--config", str(config)]
        subprocess.run([*cli, "run", "--once"], check=True, capture_output=True, cwd=tmp)
        out = subprocess.run(
            [*cli, "export", "entries"], check=True, capture_output=True, text=True, cwd=tmp
        ).stdout
        feed = (Path(tmp) / "output" / "feed.atom").read_bytes()
    return feed, {e["url"]: e["story_id"] for e in map(json.loads, out.splitlines())}


def measure(rows: list[dict[str, str]], limit: int = 4) -> str:
    feed, _ = publish(rows)
    event = {r["url"]: r["event"] for r in rows}
    topic = {r["url"]: r["topic"] for r in rows}
    links = hits = own = short = items = 0
    root = etree.fromstring(feed)
    entries = root.findall(f"{ATOM}entry")
    for entry in entries:
        alternate = [
            link.get("href")
            for link in entry.findall(f"{ATOM}link")
            if link.get("rel", "alternate") == "alternate"
        ]
        related = [
            link.get("href")
            for link in entry.findall(f"{ATOM}link")
            if link.get("rel") == "related"
        ]
        if not alternate or alternate[0] not in event:
            continue
        items += 1
        me = alternate[0]
        short += len(related) < min(limit, len(entries) - 1)
        for url in related:
            links += 1
            if url in event:
                own += event[url] == event[me]
                hits += topic[url] == topic[me] and event[url] != event[me]
    return (
        f"items={items} links={links} precision@{limit}={hits / max(links, 1):.3f} "
        f"into own story={100 * own / max(links, 1):.1f}% items short of {limit}={short}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=["synthetic", "uci"], default="uci")
    args = parser.parse_args()
    if args.set == "uci" and not UCI.exists():
        sys.exit(f"uci: {UCI} not found")
    rows = uci_rows() if args.set == "uci" else synthetic_rows()
    print(f"{args.set:9} {measure(shifted(rows))}")


if __name__ == "__main__":
    main()
