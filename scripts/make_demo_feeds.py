#!/usr/bin/env python3
"""Write the demo's sample feeds to aggregator/demo/feeds/ from the events in
demo_stories.py. Deterministic: the same files on every run.

    python scripts/make_demo_feeds.py
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).parent))
from demo_stories import CLAIMS, EVENTS, METHODS, SOLO_POSTS, TARGETS

SUFFIXES = ["A Study", "Revisited", "at Scale", "Made Simple"]
NOW = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)  # aggregator.demo.SAMPLE_NOW
OUT = Path(__file__).resolve().parent.parent / "aggregator" / "demo" / "feeds"

# file, name, format, site, interests (event tags), solo posts key
SOURCES = [
    ("frontier-wire.xml", "Frontier Wire", "rss2", "https://frontierwire.example", {"*"}, None),
    (
        "gradient-post.atom",
        "The Gradient Post",
        "atom",
        "https://gradientpost.example",
        {"models", "research", "policy", "safety", "business", "products"},
        None,
    ),
    (
        "model-tracker.json",
        "Model Release Tracker",
        "json11",
        "https://modeltracker.example",
        {"models", "open-source", "on-device", "multimodal", "efficiency"},
        None,
    ),
    (
        "cs-lg-digest.rdf",
        "cs.LG Daily Digest",
        "rss1",
        "https://cslg-digest.example",
        {"papers"},
        None,
    ),
    (
        "lab-notes.atom",
        "Lab Notes",
        "atom",
        "https://labnotes.example",
        {"research", "evaluation", "reasoning"},
        "lab-notes",
    ),
    (
        "policy-monitor.xml",
        "AI Policy Monitor",
        "rss2",
        "https://policymonitor.example",
        {"policy", "regulation", "legal", "privacy"},
        "policy",
    ),
    (
        "silicon-compute.xml",
        "Silicon & Compute",
        "rss2",
        "https://siliconcompute.example",
        {"hardware", "compute", "energy"},
        "hardware",
    ),
    (
        "oss-ml-weekly.atom",
        "Open Source ML Weekly",
        "atom",
        "https://ossmlweekly.example",
        {"open-source", "datasets", "efficiency"},
        "open-source",
    ),
    (
        "startup-ledger.xml",
        "Startup Ledger",
        "rss2",
        "https://startupledger.example",
        {"business", "funding", "products", "agents"},
        "business",
    ),
    (
        "robotics-dispatch.json",
        "Robotics Dispatch",
        "json10",
        "https://roboticsdispatch.example",
        {"robotics", "transport"},
        "robotics",
    ),
    (
        "health-ai-review.atom",
        "Health AI Review",
        "atom",
        "https://healthaireview.example",
        {"health"},
        "health",
    ),
    (
        "syndicate-daily.xml",
        "Syndicate Daily",
        "rss2",
        "https://syndicatedaily.example",
        set(),
        None,
    ),
]


def main() -> None:
    rng = random.Random(20261128)
    entries: dict[str, list[dict[str, object]]] = {s[0]: [] for s in SOURCES}
    wire_items: list[dict[str, object]] = []
    for number, (slug, tags, hours, summary, headlines) in enumerate(EVENTS):
        covering = [s for s in SOURCES if "*" in s[4] or s[4] & set(tags)]
        for index, source in enumerate(covering):
            file, name, _, site, _, _ = source
            when = NOW - timedelta(hours=hours) + timedelta(minutes=rng.randint(0, 300) * index)
            when = min(when, NOW - timedelta(minutes=5))
            entry = {
                "id": f"{site}/posts/{slug}",
                "title": headlines[(index + number) % len(headlines)],
                "link": f"{site}/{when:%Y/%m/%d}/{slug}",
                "summary": f"<p>{escape(summary)}</p>"
                if index % 3 != 2
                else f"<p>{escape(summary.split('. ')[0])}.</p><p>Read more on {escape(name)}.</p>",
                "tags": tags,
                "date": when,
            }
            entries[file].append(entry)
            if file == "frontier-wire.xml":
                wire_items.append(entry)
    # Syndicate Daily republishes wire stories: same article, tracking parameters added.
    for entry in wire_items[::2]:
        copy = dict(entry)
        copy["id"] = f"syndicate-{len(entries['syndicate-daily.xml'])}"
        copy["link"] = f"{entry['link']}?utm_source=syndicate&utm_medium=rss&utm_campaign=daily"
        copy["date"] = entry["date"] + timedelta(minutes=40)  # type: ignore[operator]
        copy["title"] = f"{entry['title']} (Frontier Wire)"
        entries["syndicate-daily.xml"].append(copy)
    for file, _name, fmt, site, _, solo in SOURCES:
        for i, (title, summary) in enumerate(SOLO_POSTS.get(solo or "", [])):
            slug = "-".join(title.lower().split()[:6]).replace(":", "").replace(",", "")
            when = NOW - timedelta(hours=3 + 9 * i + rng.randint(0, 5))
            entries[file].append(
                {
                    "id": f"{site}/posts/{slug}",
                    "title": title,
                    # Atom feeds here use xml:base, so their links may be relative.
                    "link": f"{'' if fmt == 'atom' else site}/{when:%Y/%m/%d}/{slug}",
                    "summary": f"<p>{escape(summary)}</p>",
                    "tags": [solo],
                    "date": when,
                }
            )
    entries["lab-notes.atom"][0]["content"] = (
        "<p>We kept the <a href='/notes/setup'>setup notes</a> short."
        "<script>alert('this never runs')</script>"
        "<img src='/img/loss.png' onerror='alert(1)' alt='loss curve'></p>"
    )
    for i in range(110):
        method, target = METHODS[i % len(METHODS)], TARGETS[(i * 5) % len(TARGETS)]
        claim = CLAIMS[i % len(CLAIMS)].format(n=rng.randint(2, 40))
        when = NOW - timedelta(hours=1 + i * 0.6)
        entries["cs-lg-digest.rdf"].append(
            {
                "id": f"https://cslg-digest.example/abs/2611.{10000 + i * 37}",
                "title": f"{method} {target}: {SUFFIXES[i % 4]}",
                "link": f"https://cslg-digest.example/abs/2611.{10000 + i * 37}",
                "summary": f"<p>We propose a {method.lower()} approach to "
                f"{target.lower()} that {claim}.</p>",
                "tags": ["papers", "research"],
                "date": when,
            }
        )
    OUT.mkdir(parents=True, exist_ok=True)
    total = 0
    for file, name, fmt, site, _, _ in SOURCES:
        items = sorted(entries[file], key=lambda e: e["date"], reverse=True)  # type: ignore[arg-type,return-value]
        total += len(items)
        (OUT / file).write_text(WRITERS[fmt](name, site, items), encoding="utf-8")
    print(f"{total} entries in {len(SOURCES)} feeds written to {OUT}")


def rss2(name: str, site: str, items: list[dict[str, Any]]) -> str:
    parts = [
        f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">\n<channel>\n'
        f"<title>{escape(name)}</title>\n<link>{site}/</link>\n"
        f"<description>{escape(name)}: AI news</description>\n<ttl>60</ttl>\n"
    ]
    for e in items:
        cats = "".join(f"<category>{escape(t)}</category>" for t in e["tags"])
        parts.append(
            f"<item><title>{escape(e['title'])}</title><link>{escape(e['link'])}</link>"
            f'<guid isPermaLink="false">{escape(e["id"])}</guid>'
            f"<pubDate>{format_datetime(e['date'], usegmt=True)}</pubDate>"
            f"<description>{escape(e['summary'])}</description>{cats}</item>\n"
        )
    parts.append("</channel>\n</rss>\n")
    return "".join(parts)


def atom(name: str, site: str, items: list[dict[str, Any]]) -> str:
    updated = items[0]["date"].isoformat() if items else NOW.isoformat()
    parts = [
        f'<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{site}/">\n'
        f"<title>{escape(name)}</title>\n<id>{site}/</id>\n<updated>{updated}</updated>\n"
        f'<link rel="alternate" href="{site}/"/>\n<author><name>{escape(name)}</name></author>\n'
    ]
    for e in items:
        cats = "".join(f'<category term="{escape(t)}"/>' for t in e["tags"])
        content = f'<content type="html">{escape(e["content"])}</content>' if "content" in e else ""
        parts.append(
            f"<entry><title>{escape(e['title'])}</title><id>{escape(e['id'])}</id>"
            f'<link rel="alternate" href="{escape(e["link"])}"/>'
            f"<published>{e['date'].isoformat()}</published>"
            f"<updated>{e['date'].isoformat()}</updated>"
            f'<summary type="html">{escape(e["summary"])}</summary>{content}{cats}</entry>\n'
        )
    parts.append("</feed>\n")
    return "".join(parts)


def rss1(name: str, site: str, items: list[dict[str, Any]]) -> str:
    seq = "".join(f'<rdf:li rdf:resource="{escape(e["link"])}"/>' for e in items)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        f'<channel rdf:about="{site}/"><title>{escape(name)}</title><link>{site}/</link>'
        f"<description>New machine-learning papers</description>"
        f"<items><rdf:Seq>{seq}</rdf:Seq></items></channel>\n"
    ]
    for e in items:
        subjects = "".join(f"<dc:subject>{escape(t)}</dc:subject>" for t in e["tags"])
        parts.append(
            f'<item rdf:about="{escape(e["link"])}"><title>{escape(e["title"])}</title>'
            f"<link>{escape(e['link'])}</link><description>{escape(e['summary'])}</description>"
            f"<dc:date>{e['date'].isoformat()}</dc:date>{subjects}</item>\n"
        )
    parts.append("</rdf:RDF>\n")
    return "".join(parts)


def json_feed(version: str) -> Callable[[str, str, list[dict[str, Any]]], str]:
    def write(name: str, site: str, items: list[dict[str, Any]]) -> str:
        doc = {
            "version": f"https://jsonfeed.org/version/{version}",
            "title": name,
            "home_page_url": f"{site}/",
            "items": [
                {
                    "id": e["id"],
                    "url": e["link"],
                    "title": e["title"],
                    "content_html": e["summary"],
                    "date_published": e["date"].isoformat(),
                    "tags": e["tags"],
                    **(
                        {"authors": [{"name": name}]}
                        if version == "1.1"
                        else {"author": {"name": name}}
                    ),
                }
                for e in items
            ],
        }
        return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"

    return write


WRITERS: dict[str, Callable[[str, str, list[dict[str, Any]]], str]] = {
    "rss2": rss2,
    "atom": atom,
    "rss1": rss1,
    "json11": json_feed("1.1"),
    "json10": json_feed("1.0"),
}

if __name__ == "__main__":
    main()
