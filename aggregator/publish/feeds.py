"""publish: DigestItems -> the curated Atom feed (render, pure) and files in the output
folder (write, I/O, atomic). The only feedgen import.

feedgen 1.0.0 drops `rel`, `title` and `type` of entry links (python-feedgen issue 135: it
reads them back from the new element instead of the link data), so `_Entry` writes entry
links itself.
"""

from __future__ import annotations

import html
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

from aggregator import HOMEPAGE, __version__
from aggregator.errors import PublishError
from aggregator.publish.digest import DigestItem, atom_id, files_of
from aggregator.publish.page import render_index, render_story_body
from aggregator.records import OutputSettings, PublishSettings

ATOM_NS = "http://www.w3.org/2005/Atom"
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
    items: Sequence[DigestItem],
    settings: PublishSettings,
    now: datetime,
    *,
    rss: bool,
    output: OutputSettings | None = None,
    archive: str | None = None,
) -> FeedGenerator:
    """One feedgen FeedGenerator holding the items, for the Atom or the RSS 2.0 output."""
    output = output or settings.main
    files = {k: urljoin(settings.link, v) for k, v in files_of(output).items()}
    page = settings.link if output.name == "feed" else files["html"]
    feed = FeedGenerator()
    feed.id(atom_id("feed:" + files["atom"]))
    feed.title(output.title)
    feed.subtitle(settings.subtitle)
    feed.author({"name": settings.author})
    if rss:  # feedgen's RSS <link> is the last link added: the page
        feed.link(href=files["rss"], rel="self", type="application/rss+xml")
        feed.link(href=page, rel="alternate", type="text/html")
    else:
        feed.link(href=page, rel="alternate", type="text/html")
        feed.link(href=files["rss"], rel="alternate", type="application/rss+xml")
        feed.link(href=files["json"], rel="alternate", type="application/feed+json")
        feed.link(href=files["atom"], rel="self", type="application/atom+xml")
        if settings.hub:
            feed.link(href=settings.hub, rel="hub")
        if archive:
            feed.link(
                href=urljoin(settings.link, archive),
                rel="prev-archive",
                type="application/atom+xml",
            )
        for other in settings.all_outputs:  # the other curated feeds
            if other.name != output.name:
                feed.link(
                    href=urljoin(settings.link, files_of(other)["atom"]),
                    rel="related",
                    type="application/atom+xml",
                    title=other.title,
                )
    feed.generator("aggregator", version=__version__)
    feed.language("en")
    # Atom <updated> and RSS <lastBuildDate> (one field in feedgen): when the content last
    # changed, not when the run was - an unchanged feed stays byte-identical.
    feed.updated(max((i.updated for i in items), default=now))
    # feedgen prepends added entries; add in reverse so the file keeps our order.
    for item in reversed(items):
        feed.add_entry(feedEntry=_entry(item, rss=rss))
    return feed


def _entry(item: DigestItem, *, rss: bool) -> _Entry:
    """One item as a feedgen entry: the one place an item's Atom <entry> and RSS <item>
    are made (the feeds, and `render_entry` for the archive)."""
    entry = _Entry()
    entry.impact = (item.score, item.sources)
    entry.id(item.atom_id)
    entry.guid(item.atom_id, permalink=False)
    # Atom titles and summaries are text constructs; RSS readers render <title> and
    # <description> as HTML, so there the text is escaped once more (a title about
    # "<script>" must show as text, never run).
    entry.title(html.escape(item.title, quote=False) if rss else item.title)
    entry.updated(item.updated)
    entry.published(item.published)
    entry.author({"name": item.author})
    entry.summary(html.escape(item.summary, quote=False) if rss else item.summary)
    entry.content(render_story_body(item), type="html")
    if item.url:
        entry.link(href=item.url, rel="alternate", type="text/html")
    for related in item.related:
        if related.url:
            entry.link(href=related.url, rel="related", title=related.title)
    for tag in item.tags:
        entry.category(term=tag, label=tag)
    return entry


def render_entry(item: DigestItem) -> bytes:
    """The Atom <entry> of one item as the main feed carries it (the same element, the
    same indentation, one level in), made standalone: in the Atom namespace, with no
    tail. The archive stores these."""
    made = _entry(item, rss=False).atom_entry()
    # feedgen's elements have no namespace of their own: its <feed> lends them Atom's.
    for element in made.iter():
        if isinstance(element.tag, str) and not element.tag.startswith("{"):
            element.tag = f"{{{ATOM_NS}}}{element.tag}"
    entry = etree.Element(f"{{{ATOM_NS}}}entry", made.attrib, nsmap={None: ATOM_NS})
    entry.extend(list(made))
    etree.indent(entry, level=1)
    return bytes(etree.tostring(entry))


def render_atom(
    items: Sequence[DigestItem],
    settings: PublishSettings,
    now: datetime,
    output: OutputSettings | None = None,
    archive: str | None = None,
) -> bytes:
    """Atom 1.0; `archive`: the newest RFC 5005 archive page, linked as prev-archive."""
    data: bytes = _generator(
        items, settings, now, rss=False, output=output, archive=archive
    ).atom_str(pretty=True, encoding="utf-8", xml_declaration=True)
    return data


def render_rss(
    items: Sequence[DigestItem],
    settings: PublishSettings,
    now: datetime,
    output: OutputSettings | None = None,
) -> bytes:
    """RSS 2.0: one <item> per story; the digest (score, related, also covered by) is in
    content:encoded, the summary in <description>."""
    data: bytes = _generator(items, settings, now, rss=True, output=output).rss_str(
        pretty=True, encoding="utf-8", xml_declaration=True
    )
    return data


def render_json(
    items: Sequence[DigestItem],
    settings: PublishSettings,
    now: datetime,
    output: OutputSettings | None = None,
) -> bytes:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1); the score, its components, the
    sources and the related stories are in each item's `_aggregator` extension."""
    output = output or settings.main
    files = files_of(output)
    home = settings.link if output.name == "feed" else urljoin(settings.link, files["html"])
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": output.title,
        "description": settings.subtitle,
        "home_page_url": home,
        "feed_url": urljoin(settings.link, files["json"]),
        "language": "en",
        "authors": [{"name": settings.author}],
        **({"hubs": [{"type": "WebSub", "url": settings.hub}]} if settings.hub else {}),
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
                    "about": f"{HOMEPAGE}#published-items",
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


def render_outputs(
    feeds: Sequence[tuple[OutputSettings, Sequence[DigestItem]]],
    settings: PublishSettings,
    now: datetime,
    archive: str | None = None,
) -> dict[str, bytes]:
    """Every curated feed in every format, by file name; `archive`: the main feed's
    newest archive page (its prev-archive)."""
    files: dict[str, bytes] = {}
    navigation = [(output, files_of(output)) for output, _ in feeds]
    for output, items in feeds:
        names = files_of(output)
        newest = archive if output.name == settings.main.name else None
        files[names["atom"]] = render_atom(items, settings, now, output, newest)
        files[names["rss"]] = render_rss(items, settings, now, output)
        files[names["json"]] = render_json(items, settings, now, output)
        files[names["html"]] = render_index(items, settings, now, output, navigation).encode()
    return files


def write_outputs(output_dir: Path, files: Mapping[str, bytes]) -> list[str]:
    """Write each file atomically (names may hold one folder: archive/...); returns the
    names whose bytes changed."""
    folders = {output_dir / name.rpartition("/")[0] for name in files}
    try:
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            # Temporary files of a run killed mid-write (the lock says no one else writes).
            for leftover in folder.glob(".*.tmp"):
                leftover.unlink(missing_ok=True)
    except OSError as exc:
        raise PublishError(f"cannot create {output_dir}: {exc.strerror or exc}") from None
    changed = []
    for name, data in files.items():
        path = output_dir / name
        try:
            same = path.read_bytes() == data
        except OSError:
            same = False
        if not same:
            changed.append(name)
        write_atomic(path, data)
    return changed


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
