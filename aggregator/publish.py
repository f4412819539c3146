"""publish: DigestItems -> the curated Atom feed (render, pure) and files in the output
folder (write, I/O, atomic). The only feedgen import.

feedgen 1.0.0 drops `rel`, `title` and `type` of entry links (python-feedgen issue 135: it
reads them back from the new element instead of the link data), so `_Entry` writes entry
links itself.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from aggregator import __version__
from aggregator.digest import DigestItem, atom_id
from aggregator.errors import PublishError
from aggregator.page import render_index, render_story_body
from aggregator.records import PublishSettings

ATOM_NS = "http://www.w3.org/2005/Atom"
FEED_FILE = "feed.atom"
RSS_FILE = "feed.rss"
JSON_FILE = "feed.json"
INDEX_FILE = "index.html"
# Programs read each item's impact score and source count from these Atom elements:
# <agg:score>65</agg:score> <agg:sources>3</agg:sources>
AGG_NS = "urn:aggregator:digest:1"


class _Entry(FeedEntry):  # type: ignore[misc]
    impact: tuple[int, int] | None = None  # (score, sources) for the agg: elements

    def atom_entry(self, extensions: bool = True) -> Any:
        entry = super().atom_entry(extensions)
        for element in [*entry.findall("link"), *entry.findall(f"{{{ATOM_NS}}}link")]:
            entry.remove(element)
        for link in self.link() or ():
            attrs = {
                k: str(link[k])
                for k in ("href", "rel", "type", "hreflang", "title", "length")
                if link.get(k)
            }
            # feedgen builds un-namespaced elements under a default-namespace root.
            etree.SubElement(entry, "link", attrs)
        if self.impact is not None:
            score, sources = self.impact
            etree.SubElement(entry, f"{{{AGG_NS}}}score", nsmap={"agg": AGG_NS}).text = str(score)
            etree.SubElement(entry, f"{{{AGG_NS}}}sources", nsmap={"agg": AGG_NS}).text = str(
                sources
            )
        return entry


def _generator(
    items: Sequence[DigestItem], settings: PublishSettings, now: datetime, *, rss: bool
) -> FeedGenerator:
    """One feedgen FeedGenerator holding the items, for the Atom or the RSS 2.0 output."""
    feed = FeedGenerator()
    feed_url = urljoin(settings.link, FEED_FILE)
    feed.id(atom_id("feed:" + feed_url))
    feed.title(settings.title)
    feed.subtitle(settings.subtitle)
    feed.author({"name": settings.author})
    if rss:  # feedgen's RSS <link> is the last link added: the page
        feed.link(href=urljoin(settings.link, RSS_FILE), rel="self", type="application/rss+xml")
        feed.link(href=settings.link, rel="alternate", type="text/html")
    else:
        feed.link(href=settings.link, rel="alternate", type="text/html")
        feed.link(
            href=urljoin(settings.link, RSS_FILE), rel="alternate", type="application/rss+xml"
        )
        feed.link(
            href=urljoin(settings.link, JSON_FILE), rel="alternate", type="application/feed+json"
        )
        feed.link(href=feed_url, rel="self", type="application/atom+xml")
    feed.generator("aggregator", version=__version__)
    feed.language("en")
    feed.updated(max((i.updated for i in items), default=now))
    feed.lastBuildDate(now)
    # feedgen prepends added entries; add in reverse so the file keeps our order.
    for item in reversed(items):
        entry = _Entry()
        entry.impact = (item.score, item.sources)
        entry.id(item.atom_id)
        entry.guid(item.atom_id, permalink=False)
        entry.title(item.title)
        entry.updated(item.updated)
        entry.published(item.published)
        entry.author({"name": item.author})
        entry.summary(item.summary)
        entry.content(render_story_body(item), type="html")
        if item.url:
            entry.link(href=item.url, rel="alternate", type="text/html")
        for related in item.related:
            if related.url:
                entry.link(href=related.url, rel="related", title=related.title)
        for tag in item.tags:
            entry.category(term=tag, label=tag)
        feed.add_entry(feedEntry=entry)
    return feed


def render_atom(items: Sequence[DigestItem], settings: PublishSettings, now: datetime) -> bytes:
    data: bytes = _generator(items, settings, now, rss=False).atom_str(
        pretty=True, encoding="utf-8", xml_declaration=True
    )
    return data


def render_rss(items: Sequence[DigestItem], settings: PublishSettings, now: datetime) -> bytes:
    """RSS 2.0: one <item> per story; the digest (score, related, also covered by) is in
    content:encoded, the summary in <description>."""
    data: bytes = _generator(items, settings, now, rss=True).rss_str(
        pretty=True, encoding="utf-8", xml_declaration=True
    )
    return data


def render_json(items: Sequence[DigestItem], settings: PublishSettings, now: datetime) -> bytes:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1); the score, its components, the
    sources and the related stories are in each item's `_aggregator` extension."""
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": settings.title,
        "description": settings.subtitle,
        "home_page_url": settings.link,
        "feed_url": urljoin(settings.link, JSON_FILE),
        "language": "en",
        "authors": [{"name": settings.author}],
        "items": [
            {
                "id": item.atom_id,
                **({"url": item.url} if item.url else {}),
                "title": item.title,
                "summary": item.summary,
                "content_html": render_story_body(item),
                "date_published": _rfc3339(item.published),
                "date_modified": _rfc3339(item.updated),
                "authors": [{"name": item.author}],
                **({"tags": list(item.tags)} if item.tags else {}),
                "_aggregator": {
                    "about": "https://github.com/aggregator/aggregator#published-items",
                    "score": item.score,
                    "components": dict(item.components),
                    "sources": item.sources,
                    "covered_by": [{"name": c.title, "url": c.url} for c in item.covered_by],
                    "related": [
                        {"title": r.title, "url": r.url, "summary": r.note} for r in item.related
                    ],
                },
            }
            for item in items
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")


def _rfc3339(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def write_outputs(
    output_dir: Path, items: Sequence[DigestItem], settings: PublishSettings, now: datetime
) -> tuple[Path, ...]:
    """Render and write every output file, each atomically."""
    files = {
        FEED_FILE: render_atom(items, settings, now),
        RSS_FILE: render_rss(items, settings, now),
        JSON_FILE: render_json(items, settings, now),
        INDEX_FILE: render_index(items, settings, now).encode("utf-8"),
    }
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PublishError(f"cannot create {output_dir}: {exc.strerror or exc}") from None
    return tuple(write_atomic(output_dir / name, data) for name, data in files.items())


def write_atomic(path: Path, data: bytes) -> Path:
    """Write to a temporary file in the same folder, fsync, then rename over `path`: a
    reader (or a crash) sees the old file or the new one, never half of one."""
    tmp_name: str | None = None
    try:
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
        tmp_name = None
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError as exc:
        raise PublishError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp_name is not None:
            Path(tmp_name).unlink(missing_ok=True)
    return path
