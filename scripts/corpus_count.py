#!/usr/bin/env python3
"""How many files of the public corpus (../shared/corpus/) end with fewer entries in a real
store than feedparser reads (its distinct ids plus entries without one; JSON Feed: items).

Each file is parsed, normalised and saved by `Store.save_items` into a temporary SQLite
store, as one source of its own; the entries stored are then counted. Files feedparser
found not well-formed are counted apart: they may keep fewer.

python scripts/corpus_count.py [--list] [PATH...]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from xml.sax import SAXException

import feedparser

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aggregator.errors import FeedError  # noqa: E402
from aggregator.parse.feed import parse_feed  # noqa: E402
from aggregator.parse.normalise import normalise_entries  # noqa: E402
from aggregator.records import FeedSource, FeedState  # noqa: E402
from aggregator.store import Store  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def from_manifest() -> list[tuple[str, Path, int, bool]]:
    """(name, file, entries feedparser reads, well-formed) for each file of the corpus."""
    found = []
    for line in (CORPUS / "manifest.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record.get("json_items"):
            want = int(record["json_items"])
        elif record.get("version"):
            want = int(record["n_distinct_ids"]) + int(record["n_without_id"])
        else:
            want = 0
        broken = str(record.get("bozo_exception") or "").startswith("SAXParseException")
        found.append((record["path"], CORPUS / record["path"], want, not broken))
    return found


def read_now(paths: list[Path]) -> list[tuple[str, Path, int, bool]]:
    """The same for other documents (say, a checkout of the W3C feed validator's
    testcases), read by feedparser here, as the manifest was: bytes, no HTTP context."""
    found = []
    for path in sorted(
        p for top in paths for p in ([top] if top.is_file() else top.rglob("*.xml"))
    ):
        result = feedparser.parse(io.BytesIO(path.read_bytes()))
        ids = [e.get("id") for e in result.entries]
        want = len({i for i in ids if i}) + sum(1 for i in ids if not i)
        well_formed = not isinstance(result.get("bozo_exception"), SAXException)
        found.append((str(path), path, want, well_formed))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", action="store_true", help="name the files that keep fewer")
    parser.add_argument("paths", nargs="*", type=Path, help="other documents, instead")
    args = parser.parse_args()
    files = read_now(args.paths) if args.paths else from_manifest()
    short: Counter[str] = Counter()
    names: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{folder}/corpus.sqlite", create=True)
        sources = [FeedSource(url=f"https://corpus.example/{n}", name=n) for n, *_ in files]
        store.sync_sources(sources)
        for (_, path, _, _), source in zip(files, sources, strict=True):
            try:
                feed = parse_feed(path.read_bytes(), {})
            except FeedError:
                continue
            items = normalise_entries(feed, source_url=source.url, base_url=source.url, now=NOW)
            store.save_items(FeedState(url=source.url), items, now=NOW, partial=bool(feed.broken))
        counts = store.entry_counts()
        store.close()
    for (name, _, want, well_formed), source in zip(files, sources, strict=True):
        if want == 0:
            continue
        kind = "well-formed" if well_formed else "not well-formed"
        short[f"{kind} files read by feedparser"] += 1
        stored = counts.get(source.url, 0)
        if stored < want:
            short[f"{kind} files that keep fewer"] += 1
            names.append(f"{name}: {stored} stored < {want}")
    for line in sorted(short.items()):
        print(f"{line[0]}: {line[1]}")
    if args.list:
        print("\n".join(names))


if __name__ == "__main__":
    main()
