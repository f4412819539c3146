"""The public feed corpus in ../shared/corpus/: every file is ingested or rejected with a
classified FeedError, never another exception, and for every file feedparser reads we keep
at least as many entries as it found distinct ids plus entries without an id (one fewer
for a file that is not well-formed: the entry it breaks off in)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from aggregator.errors import FeedError
from aggregator.parse.feed import parse_feed
from aggregator.parse.normalise import normalise_entries
from tests.conftest import NOW, SHARED

CORPUS = SHARED / "corpus"
MANIFEST = CORPUS / "manifest.jsonl"

pytestmark = pytest.mark.skipif(not MANIFEST.exists(), reason="../shared/corpus is not there")


def load_manifest() -> list[dict[str, object]]:
    return [json.loads(line) for line in MANIFEST.read_text().splitlines() if line.strip()]


def ingest(record: dict[str, object]) -> int:
    body = (CORPUS / str(record["path"])).read_bytes()
    url = f"https://corpus.example/{record['path']}"
    feed = parse_feed(body, {})
    return len(normalise_entries(feed, source_url=url, base_url=url, now=NOW))


def test_every_corpus_file_is_ingested_or_classified():
    outcomes: Counter[str] = Counter()
    short: list[str] = []
    for record in load_manifest():
        try:
            stored = ingest(record)
        except FeedError as error:
            outcomes[f"error:{error.kind}"] += 1
            if record.get("version") and record.get("n_entries"):
                short.append(f"{record['path']}: rejected ({error}) but feedparser read it")
            if record.get("json_items"):
                short.append(f"{record['path']}: JSON Feed rejected: {error}")
            continue
        outcomes["ingested"] += 1
        if record.get("json_items"):
            expected = int(record["json_items"])  # type: ignore[call-overload]
        elif record.get("version"):
            expected = int(record["n_distinct_ids"]) + int(record["n_without_id"])  # type: ignore[call-overload]
        else:
            expected = 0
        if str(record.get("bozo_exception")).startswith("SAXParseException"):
            # Not well-formed: an entry the document breaks off in is not stored (issue 15).
            expected -= 1
        if stored < expected:
            short.append(f"{record['path']}: {stored} stored < {expected}")
    print(dict(outcomes))
    assert outcomes["ingested"] > 1500
    assert not short, "\n".join(short[:30])
