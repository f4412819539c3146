"""parse: bytes + HTTP headers -> ParsedFeed. Pure; the only feedparser import.

feedparser reads RSS 0.9x/1.0/2.0 and Atom 0.3/1.0, and the items of RSS 1.1 (without
a version: named here). It is given a BytesIO, never a URL or raw bytes: given bytes or a
str it may treat the document as a file name and open it.
Its sanitiser and relative-URL resolver are off: normalise does both with nh3, once.
JSON Feed 1.0/1.1, which feedparser 6 does not read, is handled here.
"""

from __future__ import annotations

import calendar
import html
import io
import json
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from xml.sax import SAXException, SAXParseException

import feedparser
from feedparser.exceptions import UndeclaredNamespace
from lxml import etree

from aggregator.errors import FeedError, FeedErrorKind
from aggregator.parse.fast import RSS11, fast_parse
from aggregator.parse.normalise import sanitise_html
from aggregator.parse.parsed import ParsedEntry, ParsedFeed

_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html)[\s>]", re.I | re.S)
_JSON_FEED_VERSION = "https://jsonfeed.org/version/"
# The end of an item or entry (or an empty one), outside CDATA sections and comments.
_ENTRY_END = re.compile(
    rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->|(</(?:[\w.-]+:)?(?:item|entry)\s*>|"
    rb"<(?:[\w.-]+:)?(?:item|entry)(?:\s[^<>]*)?/>)",
    re.S | re.I,
)
_ENTITY_WORD = re.compile(rb"<!ENTITY", re.I)
# Entity declarations, outside CDATA sections and comments (where they are only text).
_ENTITY = re.compile(rb"<!\[CDATA\[.*?\]\]>|<!--.*?-->|(<!ENTITY[^>]*>?)", re.S | re.I)
# What feedparser expands (its RE_SAFE_ENTITY_PATTERN): text, or one character reference.
_SAFE_ENTITY = re.compile(rb'<!ENTITY\s+\w+\s+"(&#\w+;|[^&%"]*)"\s*>')


def parse_feed(body: bytes, headers: Mapping[str, str]) -> ParsedFeed:
    """Parse one feed document. Raises FeedError(PARSE or NOT_A_FEED)."""
    content_type = headers.get("content-type", "").lower()
    if "json" in content_type or body.lstrip()[:1] == b"{":
        return _parse_json_feed(body)
    refuse_entities(body)
    if _utf8_as_declared(content_type):
        fast = fast_parse(body)
        if fast is not None:
            return fast
    return parse_with_feedparser(body, headers)


def parse_with_feedparser(body: bytes, headers: Mapping[str, str]) -> ParsedFeed:
    """feedparser's reading of an RSS or Atom document (what fast_parse must equal)."""
    try:
        result = feedparser.parse(
            io.BytesIO(body),
            # No Content-Location: feedparser would resolve every id against it, and
            # urljoin rewrites `http://example.com/?` as `http://example.com/`. An id is
            # compared as written (RFC 4287 4.2.6); normalise resolves links itself.
            response_headers={k.lower(): v for k, v in headers.items()},
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:  # feedparser on hostile bytes: a parse failure of this feed
        raise FeedError(
            FeedErrorKind.PARSE, f"feedparser failed: {type(exc).__name__}: {exc}"
        ) from None
    version = result.get("version") or ("rss11" if _root_tag(body) == RSS11 + "Channel" else "")
    if not version:
        if _HTML_START.match(body[:4096]):
            raise FeedError(FeedErrorKind.NOT_A_FEED, "an HTML page, not a feed")
        if (
            not body[:1024]
            .replace(b"\x00", b"")
            .lstrip(b"\xef\xbb\xbf\xfe\xff \t\r\n")
            .startswith(b"<")
        ):
            raise FeedError(FeedErrorKind.NOT_A_FEED, "neither XML nor JSON")
        if result.get("bozo"):
            raise FeedError(FeedErrorKind.PARSE, f"not well-formed: {result.get('bozo_exception')}")
        raise FeedError(FeedErrorKind.NOT_A_FEED, "no RSS, Atom or JSON Feed found")
    feed = result.get("feed", {})
    entries = tuple(_entry(e) for e in result.get("entries", ()))
    broken = _not_well_formed(result)
    if broken is not None:  # the entries read before the break, and those after it whole
        entries = entries[: _entries_held(body)]
    return ParsedFeed(
        title=_text(feed.get("title_detail"), feed.get("title")),
        link=feed.get("link") or None,
        version=version,
        entries=entries,
        ttl=_ttl(feed),
        broken=broken,
    )


def _not_well_formed(result: Any) -> str | None:
    """Why feedparser's strict XML parser gave up, when it did (it then read the document
    again with its forgiving parser, which also reads what a cut-off body holds)."""
    error = result.get("bozo_exception") if result.get("bozo") else None
    if isinstance(error, SAXParseException):
        where = f"line {error.getLineNumber()}, column {error.getColumnNumber()}"
        return f"not well-formed ({where}): {error.getMessage()}"
    if isinstance(error, SAXException | UndeclaredNamespace):
        return f"not well-formed: {error}"
    return None


def _entries_held(body: bytes) -> int:
    """How many items or entries of a document end in it: a body cut off inside one (a
    dropped connection, a publisher's full disk) holds all those before it whole, not it.
    Items do not nest, so they are the first ones feedparser read (issue 15)."""
    probe = body.replace(b"\x00", b"") if b"\x00" in body[:4] else body
    return sum(1 for m in _ENTRY_END.finditer(probe) if m.group(1))


def refuse_entities(body: bytes) -> None:
    """A DTD that declares an entity made of other entities (the billion-laughs bomb), an
    external one (a file or URL) or a parameter entity is refused whole, as OPML import
    refuses a DTD: expanded, they are a bomb or a leak; left alone, their references would
    be stored as text (`&lol9;`). A plain text entity (`<!ENTITY id "tag:x,">`) is what
    feedparser expands, and stays. UTF-16 and UTF-32 are looked at without zero bytes."""
    probe = body.replace(b"\x00", b"") if b"\x00" in body[:4] else body
    if not _ENTITY_WORD.search(probe):
        return
    for match in _ENTITY.finditer(probe):
        declared = match.group(1)
        if declared is not None and not _SAFE_ENTITY.fullmatch(declared):
            shown = " ".join(declared[:60].decode("utf-8", "replace").split())
            raise FeedError(
                FeedErrorKind.XML_BOMB, f"a DTD declares an entity that is not plain text: {shown}"
            )


def _root_tag(body: bytes) -> str | None:
    """The document element's tag, {namespace}name. feedparser knows no RSS 1.1
    (http://purl.org/net/rss1.1#) and gives it no version, but reads its items."""
    try:
        events = etree.iterparse(
            io.BytesIO(body),
            events=("start",),
            resolve_entities=False,
            no_network=True,
            recover=True,
        )
        return next((str(element.tag) for _, element in events), None)
    except etree.XMLSyntaxError:
        return None


def _utf8_as_declared(content_type: str) -> bool:
    """Does the HTTP Content-Type leave the encoding to the document, or say UTF-8? (For
    text/* without a charset, feedparser follows RFC 3023: US-ASCII. Not our fast path.)"""
    media, _, params = content_type.partition(";")
    charset = next(
        (p.split("=", 1)[1].strip(" \"'") for p in params.split(";") if "charset=" in p), None
    )
    if charset is not None:
        return charset in ("utf-8", "utf8")
    return not media.strip().startswith("text/")


_PERIODS = {
    "hourly": 3600,
    "daily": 86400,
    "weekly": 604800,
    "monthly": 2592000,
    "yearly": 31536000,
}


def _ttl(feed: Any) -> float | None:
    """How often the feed says it changes: RSS 2.0 <ttl> (minutes), or the syndication
    module's updatePeriod divided by updateFrequency."""
    ttl = str(feed.get("ttl", "")).strip()
    if ttl.isdigit() and 0 < int(ttl) < 10**6:
        return int(ttl) * 60.0
    period = _PERIODS.get(str(feed.get("sy_updateperiod", "")).strip().lower())
    if period is None:
        return None
    frequency = str(feed.get("sy_updatefrequency", "1")).strip()
    return period / int(frequency) if frequency.isdigit() and int(frequency) > 0 else period


def _entry(entry: Any) -> ParsedEntry:
    content = _best_content(entry.get("content") or ())
    detail = entry.get("summary_detail")
    summary = _based(_html(detail, entry.get("summary")), detail)
    author = entry.get("author") or None
    return ParsedEntry(
        guid=_clean_str(entry.get("id")),
        link=_clean_str(entry.get("link")),
        title=_html(entry.get("title_detail"), entry.get("title")),
        summary_html=summary,
        content_html=content,
        author=author if isinstance(author, str) else None,
        tags=tuple(t for t in (_tag(x) for x in entry.get("tags") or ()) if t),
        # `in` checks: entry.get("updated_parsed") falls back to the published date.
        published=from_struct(entry["published_parsed"]) if "published_parsed" in entry else None,
        updated=from_struct(entry["updated_parsed"]) if "updated_parsed" in entry else None,
    )


def _html(detail: Any, value: Any) -> str | None:
    """A text construct as HTML: plain text is escaped, (x)html kept as is."""
    if not isinstance(value, str) or not value.strip():
        return None
    kind = detail.get("type", "") if isinstance(detail, Mapping) else ""
    return html.escape(value, quote=False) if kind == "text/plain" else value


def _text(detail: Any, value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    kind = detail.get("type", "") if isinstance(detail, Mapping) else ""
    return value.strip() if kind == "text/plain" else html.unescape(re.sub(r"<[^>]*>", "", value))


def _based(value: str | None, detail: Any) -> str | None:
    """Relative URLs under an xml:base resolved against it here (feedparser, which is not
    given the document's URL, leaves them relative; normalise knows only that URL)."""
    base = detail.get("base") if isinstance(detail, Mapping) else None
    if value and isinstance(base, str) and base:
        return sanitise_html(value, base)
    return value


def _best_content(contents: Any) -> str | None:
    best: str | None = None
    for item in contents:
        html_value = (
            _based(_html(item, item.get("value")), item) if isinstance(item, Mapping) else None
        )
        if html_value and (best is None or len(html_value) > len(best)):
            best = html_value
    return best


def _tag(tag: Any) -> str | None:
    if not isinstance(tag, Mapping):
        return None
    term = tag.get("label") or tag.get("term")
    return term.strip() if isinstance(term, str) and term.strip() else None


def _clean_str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def from_struct(value: Any) -> datetime | None:
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, ValueError, OSError):
        return None


# --- JSON Feed (https://jsonfeed.org/version/1.1) -------------------------------------------


def _parse_json_feed(body: bytes) -> ParsedFeed:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise FeedError(FeedErrorKind.PARSE, f"invalid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise FeedError(FeedErrorKind.NOT_A_FEED, "JSON, but not a JSON Feed object")
    version = doc.get("version")
    if not isinstance(version, str) or not version.startswith(_JSON_FEED_VERSION):
        raise FeedError(FeedErrorKind.NOT_A_FEED, "JSON without a JSON Feed `version`")
    items = doc.get("items")
    if not isinstance(items, list):
        raise FeedError(FeedErrorKind.PARSE, "JSON Feed without an `items` list")
    short = "json" + version.removeprefix(_JSON_FEED_VERSION).replace(".", "")
    return ParsedFeed(
        title=_clean_str(doc.get("title")),
        link=_clean_str(doc.get("home_page_url")),
        version=short,
        entries=tuple(_json_item(item) for item in items if isinstance(item, dict)),
    )


def _json_item(item: dict[str, Any]) -> ParsedEntry:
    guid = item.get("id")
    content_html = _clean_str(item.get("content_html"))
    content_text = _clean_str(item.get("content_text"))
    if content_html is None and content_text is not None:
        content_html = html.escape(content_text, quote=False)
    summary = _clean_str(item.get("summary"))
    title = _clean_str(item.get("title"))
    raw_tags = item.get("tags")
    tags: list[Any] = raw_tags if isinstance(raw_tags, list) else []
    return ParsedEntry(
        guid=str(guid).strip() or None if isinstance(guid, str | int) else None,
        link=_clean_str(item.get("url")) or _clean_str(item.get("external_url")),
        title=html.escape(title, quote=False) if title else None,
        summary_html=html.escape(summary, quote=False) if summary else None,
        content_html=content_html,
        author=_json_author(item),
        tags=tuple(t.strip() for t in tags if isinstance(t, str) and t.strip()),
        published=_from_iso(item.get("date_published")),
        updated=_from_iso(item.get("date_modified")),
    )


def _json_author(item: dict[str, Any]) -> str | None:
    authors = item.get("authors")
    candidates = authors if isinstance(authors, list) else [item.get("author")]  # 1.0: author
    for author in candidates:
        if isinstance(author, dict) and _clean_str(author.get("name")):
            return _clean_str(author.get("name"))
    return None


def _from_iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
