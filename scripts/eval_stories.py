#!/usr/bin/env python3
"""Measure how well entries are grouped into stories, end to end through the CLI.

Labelled entries are written as RSS feeds (one per source), served on 127.0.0.1, polled by
`aggregator run --once`, read back with `aggregator export entries`, and compared with the
labels: pairwise precision, recall and F1 over entry pairs, and the share of pairs of
distinct events on the same topic that were merged.

    python scripts/eval_stories.py                    # every set, the configured settings
    python scripts/eval_stories.py --set uci --threshold 0.2 --threshold 0.3

Sets: `farm` (the benchmark farm's made-up text: copies with tracking parameters and
edited headlines must merge, entries that only share the vocabulary must not),
`synthetic` (generated: copies, rewrites, truncations and same-topic hard negatives;
targets precision >= 0.98, recall >= 0.95, same-topic merges <= 1%) and `uci` (3,884 real
headlines from ../shared/labelled/, titles only: a much harder test).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from itertools import combinations, product
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_farm import Farm  # noqa: E402
from eval.synthetic import generate  # noqa: E402

from aggregator.demo import serve_files  # noqa: E402

UCI = ROOT.parent / "shared" / "labelled" / "uci_dev.jsonl"


def rss(items: list[dict[str, str]]) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>eval</title><link>https://eval.example/</link><description>d</description>"
    ]
    for it in items:
        parts.append(
            f"<item><title>{escape(it['title'])}</title><link>{escape(it['url'])}</link>"
            f'<guid isPermaLink="false">{escape(it["guid"])}</guid>'
            f"<pubDate>{it['date']}</pubDate>"
            f"<description>{escape(it['summary'])}</description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def farm_rows(feeds: int = 300, entries: int = 20) -> list[dict[str, str]]:
    """The benchmark farm's made-up text (scripts/bench_farm.py): random words of one
    vocabulary, 5% cross-posts (tracking parameters, an edited headline). Its truth: a
    cross-post is its original's event; every other entry is an event of its own."""
    farm = Farm(feeds, entries)
    rows = []
    for f in range(feeds):
        for e in range(entries):
            item = farm._entry(f, e)
            key = item["id"].removesuffix(":xpost")
            if key != item["id"]:  # the original: the same entry number of another feed
                key = item["link"].split("?")[0].replace("https://f", "").replace(".example/", ":")
                key = f"urn:farm:{key}"
            rows.append(
                {
                    "guid": item["id"],
                    "event": key,
                    "topic": "farm",
                    "source": f"farm{f}",
                    "title": item["title"],
                    "summary": item["summary"],
                    "url": item["link"],
                    "date": item["date"],
                }
            )
    return rows


def synthetic_rows() -> list[dict[str, str]]:
    ref = datetime.now(UTC).replace(microsecond=0)
    return [
        {
            "guid": e.guid,
            "event": e.event,
            "topic": e.topic,
            "source": e.source,
            "title": e.title,
            "summary": e.summary,
            "url": e.url,
            "date": format_datetime(ref - timedelta(minutes=e.minutes), usegmt=True),
        }
        for e in generate()
    ]


def uci_rows() -> list[dict[str, str]]:
    rows = []
    for line in UCI.read_text().splitlines():
        r = json.loads(line)
        when = datetime.fromisoformat(r["published"].replace("Z", "+00:00"))
        rows.append(
            {
                "guid": r["entry_id"],
                "event": r["story_id"],
                "topic": r["topic"],
                "source": r["host"],
                "title": r["title"],
                "summary": "",
                "url": r["url"],
                "date": format_datetime(when, usegmt=True),
            }
        )
    return rows


def run_pipeline(
    rows: list[dict[str, str]], dedupe: dict[str, str]
) -> tuple[dict[str, str], float]:
    by_source: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_source[row["source"]].append(row)
    files = {f"{i}.xml": rss(items) for i, items in enumerate(by_source.values())}
    with serve_files(files) as base, tempfile.TemporaryDirectory() as tmp:
        lines = ["dedupe:", *(f"  {k}: {v}" for k, v in dedupe.items())] if dedupe else []
        lines += ["fetch: {workers: 16}", "feeds:"]
        lines += [f"  - url: {base}{name}\n    name: s{name}" for name in files]
        config = Path(tmp) / "feeds.yaml"
        config.write_text("\n".join(lines) + "\n")
        started = time.monotonic()
        cli = [sys.executable, "-m", "aggregator", "--config", str(config)]
        subprocess.run([*cli, "run", "--once"], check=True, capture_output=True, cwd=tmp)
        seconds = time.monotonic() - started
        out = subprocess.run(
            [*cli, "export", "entries"], check=True, capture_output=True, text=True, cwd=tmp
        ).stdout
    stories = {}
    for line in out.splitlines():
        entry = json.loads(line)
        stories[entry["guid"]] = entry["story_id"]
    return stories, seconds


def measure(rows: list[dict[str, str]], stories: dict[str, str]) -> dict[str, float]:
    event = {r["guid"]: r["event"] for r in rows}
    topic = {r["guid"]: r["topic"] for r in rows}
    guids = sorted(event)
    tp = fp = fn = same_topic = same_topic_merged = 0
    by_story: dict[str, list[str]] = defaultdict(list)
    by_event: dict[str, list[str]] = defaultdict(list)
    for g in guids:
        by_story[stories[g]].append(g)
        by_event[event[g]].append(g)
    predicted = {p for members in by_story.values() for p in combinations(sorted(members), 2)}
    gold = {p for members in by_event.values() for p in combinations(sorted(members), 2)}
    tp, fp, fn = len(predicted & gold), len(predicted - gold), len(gold - predicted)
    by_topic: dict[str, list[str]] = defaultdict(list)
    for g in guids:
        by_topic[topic[g]].append(g)
    for members in by_topic.values():
        n = len(members)
        same_topic += n * (n - 1) // 2
    same_topic -= len(gold)  # pairs of distinct events on one topic
    same_topic_merged = sum(1 for a, b in predicted - gold if topic[a] == topic[b])
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "entries": len(guids),
        "events": len(by_event),
        "stories": len(by_story),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "same_topic_merged": same_topic_merged / same_topic if same_topic else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=["synthetic", "uci", "farm", "all"], default="all")
    parser.add_argument(
        "--dedupe",
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="dedupe settings to try, e.g. threshold=0.2,0.3 (repeatable; "
        "every combination is run)",
    )
    args = parser.parse_args()
    sets = ["synthetic", "uci", "farm"] if args.set == "all" else [args.set]
    keys = [item.split("=", 1)[0] for item in args.dedupe]
    options = [item.split("=", 1)[1].split(",") for item in args.dedupe]
    for name in sets:
        if name == "uci" and not UCI.exists():
            print(f"uci: {UCI} not found, skipped")
            continue
        rows = {"synthetic": synthetic_rows, "uci": uci_rows, "farm": farm_rows}[name]()
        grid = [dict(zip(keys, values, strict=True)) for values in product(*options)]
        for dedupe in grid:
            stories, seconds = run_pipeline(rows, dedupe)
            m = measure(rows, stories)
            label = " ".join(f"{k}={v}" for k, v in dedupe.items()) or "defaults"
            print(
                f"{name:9} {label:30} entries={m['entries']:.0f} "
                f"events={m['events']:.0f} stories={m['stories']:.0f} "
                f"P={m['precision']:.3f} R={m['recall']:.3f} F1={m['f1']:.3f} "
                f"same-topic merged={100 * m['same_topic_merged']:.2f}% "
                f"run={seconds:.1f}s",
                flush=True,
            )


if __name__ == "__main__":
    main()
