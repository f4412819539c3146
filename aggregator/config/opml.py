"""opml: subscription lists in and out (OPML 1.0/2.0, what every feed reader exports).
Pure: bytes -> records, records -> bytes.

Reading is forgiving about what readers write (attribute names in any case, `text` or
`title`, folders nested to any depth, a `category` attribute) and strict about what the
file may do (no entities resolved, no DTD, no network). A feed's tags are the folders it
sits in plus its categories; writing puts each source in the folder of its first tag and
all its tags in `category`, so that a round trip keeps them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime

from lxml import etree

from aggregator.config.values import check_url, same_feed
from aggregator.records import FeedSource


class OpmlError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Subscription:
    url: str
    title: str | None
    tags: tuple[str, ...]


def read_opml(data: bytes) -> list[Subscription]:
    """Every outline with a feed URL, in document order, each URL once."""
    if b"<!doctype" in data.lower() or b"<!entity" in data.lower():
        raise OpmlError("a document type declaration is refused (OPML needs none; entities)")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise OpmlError(f"not well-formed XML: {exc}") from None
    if not isinstance(root.tag, str) or etree.QName(root).localname.lower() != "opml":
        raise OpmlError("not an OPML file (the root element is not <opml>)")
    body = next((c for c in root if _name(c) == "body"), None)
    if body is None:
        raise OpmlError("an OPML file without <body>")
    found: dict[str, Subscription] = {}
    for sub in _walk(body, ()):
        found.setdefault(same_feed(sub.url), sub)
    return list(found.values())


def _walk(element: etree._Element, folders: tuple[str, ...]) -> Iterator[Subscription]:
    for child in element:
        if _name(child) != "outline":
            continue
        attrs = {str(k).lower(): str(v).strip() for k, v in child.attrib.items()}
        label = attrs.get("title") or attrs.get("text") or None
        url = attrs.get("xmlurl") or (attrs.get("url") if attrs.get("type") == "rss" else None)
        if url and url.lower().startswith("feed:"):  # feed://host/x and feed:https://host/x
            url = url[5:] if url[5:].lower().startswith("http") else "http:" + url[5:]
        if url:
            try:
                url = check_url(url)
            except ValueError:
                continue  # a feed of another scheme (file:, feed:) cannot be polled
            categories = [
                part.strip()
                for item in attrs.get("category", "").split(",")
                for part in item.strip().strip("/").split("/")[-1:]
                if part.strip()
            ]
            tags = tuple(dict.fromkeys(t.lower() for t in (*folders, *categories)))
            yield Subscription(url=url, title=label, tags=tags)
        yield from _walk(child, (*folders, label) if label and not url else folders)


def _name(element: etree._Element) -> str:
    return etree.QName(element).localname.lower() if isinstance(element.tag, str) else ""


def write_opml(sources: Sequence[FeedSource], title: str, now: datetime) -> bytes:
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = title
    etree.SubElement(head, "dateCreated").text = format_datetime(now, usegmt=True)
    body = etree.SubElement(root, "body")
    folders: dict[str, etree._Element] = {}
    for source in sources:
        parent = body
        if source.tags:
            # `is None`, not `or`: an element's truth value is its having children (lxml's
            # FutureWarning), so a folder would be made again for each of its feeds.
            folder = folders.get(source.tags[0])
            if folder is None:
                folder = etree.SubElement(
                    body, "outline", text=source.tags[0], title=source.tags[0]
                )
                folders[source.tags[0]] = folder
            parent = folder
        outline = etree.SubElement(
            parent, "outline", type="rss", text=source.name, title=source.name, xmlUrl=source.url
        )
        if len(source.tags) > 1:
            outline.set("category", ",".join(source.tags))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True))
