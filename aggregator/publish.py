"""publish: DigestItems -> the curated Atom feed (render, pure) and files in the output
folder (write, I/O, atomic). The only feedgen import.

feedgen 1.0.0 drops `rel`, `title` and `type` of entry links (python-feedgen issue 135: it
reads them back from the new element instead of the link data), so `_Entry` writes entry
links itself.
"""

from __future__ import annotations

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
INDEX_FILE = "index.html"


class _Entry(FeedEntry):  # type: ignore[misc]
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
        return entry


def render_atom(items: Sequence[DigestItem], settings: PublishSettings, now: datetime) -> bytes:
    feed = FeedGenerator()
    feed_url = urljoin(settings.link, FEED_FILE)
    feed.id(atom_id("feed:" + feed_url))
    feed.title(settings.title)
    feed.subtitle(settings.subtitle)
    feed.author({"name": settings.author})
    feed.link(href=settings.link, rel="alternate", type="text/html")
    feed.link(href=feed_url, rel="self", type="application/atom+xml")
    feed.generator("aggregator", version=__version__)
    feed.language("en")
    feed.updated(max((i.updated for i in items), default=now))
    # feedgen prepends added entries; add in reverse so the file keeps our order.
    for item in reversed(items):
        entry = _Entry()
        entry.id(item.atom_id)
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
    data: bytes = feed.atom_str(pretty=True, encoding="utf-8", xml_declaration=True)
    return data


def write_outputs(
    output_dir: Path, items: Sequence[DigestItem], settings: PublishSettings, now: datetime
) -> tuple[Path, ...]:
    """Render and write every output file, each atomically."""
    files = {
        FEED_FILE: render_atom(items, settings, now),
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
