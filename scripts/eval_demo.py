#!/usr/bin/env python3
"""Check the offline demo against its answer key (scripts/demo_stories.py): every event is
exactly one story, no story mixes events, no two published items share a summary, and no
related link leads to a copy of the item (another entry of its own event).

    python scripts/eval_demo.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_stories import EVENTS

ATOM = "{http://www.w3.org/2005/Atom}"
SLUGS = {e[0] for e in EVENTS}


def event_of(url: str | None) -> str | None:
    slug = urlsplit(url or "").path.rstrip("/").rpartition("/")[2]
    return slug if slug in SLUGS else None


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        cli = [sys.executable, "-m", "aggregator", "--db", f"sqlite:///{tmp}/demo.db"]
        subprocess.run([*cli, "demo", "--output", tmp], check=True, capture_output=True)
        out = subprocess.run(
            [*cli, "export", "entries"], check=True, capture_output=True, text=True
        ).stdout
        feed = etree.fromstring((Path(tmp) / "feed.atom").read_bytes())
    entries = [json.loads(line) for line in out.splitlines()]
    stories_of: dict[str, set[str]] = defaultdict(set)
    events_of: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        event = event_of(e["url"])
        if event:
            stories_of[event].add(e["story_id"])
            events_of[e["story_id"]].add(event)
    split = {e: len(s) for e, s in stories_of.items() if len(s) > 1}
    mixed = {s: sorted(e) for s, e in events_of.items() if len(e) > 1}
    items = feed.findall(f"{ATOM}entry")
    summaries = Counter(i.findtext(f"{ATOM}summary") for i in items)
    shared = sum(n for n in summaries.values() if n > 1)
    to_copy = related = 0
    for item in items:
        links = item.findall(f"{ATOM}link")
        own = next((event_of(x.get("href")) for x in links if x.get("rel") != "related"), None)
        for link in links:
            if link.get("rel") == "related":
                related += 1
                to_copy += own is not None and event_of(link.get("href")) == own
    counts = Counter(
        len([x for x in i.findall(f"{ATOM}link") if x.get("rel") == "related"]) for i in items
    )
    print(f"events={len(SLUGS)} found={len(stories_of)} split={len(split)} {split or ''}")
    print(f"stories mixing events={len(mixed)} {mixed or ''}")
    print(
        f"items={len(items)} sharing a summary={shared} related links={related} "
        f"to a copy={to_copy} links per item={dict(sorted(counts.items()))}"
    )
    return int(bool(split or mixed or shared or to_copy))


if __name__ == "__main__":
    sys.exit(main())
