"""discover: the feed an HTML page advertises (<link rel="alternate" type="...">). Pure."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

FEED_TYPES = (
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
)


class _AlternateLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("link", "a"):
            return
        a = {k.lower(): (v or "") for k, v in attrs}
        rels = a.get("rel", "").lower().split()
        kind = a.get("type", "").lower().split(";")[0].strip()
        if "alternate" in rels and kind in FEED_TYPES and a.get("href"):
            self.links.append((kind, a["href"]))


def discover_feed(body: bytes, base_url: str) -> str | None:
    """The first feed an HTML page advertises with <link rel="alternate" type=...>."""
    parser = _AlternateLinks()
    try:
        parser.feed(body[: 2 * 2**20].decode("utf-8", "replace"))
    except (ValueError, AssertionError):
        return None
    for _, href in parser.links:
        url = urljoin(base_url, href.strip())
        if urlsplit(url).scheme in ("http", "https"):
            return url
    return None
