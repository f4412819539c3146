#!/usr/bin/env python3
"""How many files of the public corpus (../shared/corpus/) end with fewer entries in a real
store than feedparser reads (its distinct ids plus entries without one; JSON Feed: items).

Each file is parsed, normalised and saved by `Store.save_items` into a temporary SQLite
store, as one source of its own; the entries stored are then counted. Files feedparser
found not well-formed are counted apart: they may keep fewer.

python scripts/corpus_count.py [--list]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aggregator.errors import FeedError  # noqa: E402
from aggregator.normalise import normalise_entries  # noqa: E402
from aggregator.parse import parse_feed  # noqa: E402
from aggregator.records import FeedSource, FeedState  # noqa: E402
from aggregator.store import Store  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def expected(record: dict[str, object]) -> int:
    if record.get("json_items"):
        return int(record["json_items"])  # type: ignore[call-overload]
    if record.get("version"):
        return int(record["n_distinct_ids"]) + int(record["n_without_id"])  # type: ignore[call-overload]
    return 0


def well_formed(record: dict[str, object]) -> bool:
    return not str(record.get("bozo_exception") or "").startswith("SAXParseException")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="name the files that keep fewer")
    args = parser.parse_args()
    records = [json.loads(line) for line in (CORPUS / "manifest.jsonl").read_text().splitlines()]
    short: Counter[str] = Counter()
    names: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{folder}/corpus.sqlite", create=True)
        sources = [
            FeedSource(url=f"https://corpus.example/{r['path']}", name=str(r["path"]))
            for r in records
        ]
        store.sync_sources(sources)
        for record, source in zip(records, sources, strict=True):
            body = (CORPUS / str(record["path"])).read_bytes()
            try:
                feed = parse_feed(body, {})
            except FeedError:
                continue
            items = normalise_entries(feed, source_url=source.url, base_url=source.url, now=NOW)
            store.save_items(FeedState(url=source.url), items, now=NOW)
        counts = store.entry_counts()
        store.close()
        for record, source in zip(records, sources, strict=True):
            want = expected(record)
            if want == 0:
                continue
            kind = "well-formed" if well_formed(record) else "not well-formed"
            short[f"{kind} files read by feedparser"] += 1
            stored = counts.get(source.url, 0)
            if stored < want:
                short[f"{kind} files that keep fewer"] += 1
                names.append(f"{record['path']}: {stored} stored < {want}")
    for line in sorted(short.items()):
        print(f"{line[0]}: {line[1]}")
    if args.list:
        print("\n".join(names))


if __name__ == "__main__":
    main()
