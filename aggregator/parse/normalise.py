"""normalise: ParsedFeed -> Items. Pure.

Entry identity (GUID, else link, else a content hash); canonical URLs; titles unescaped
and whitespace-collapsed; dates in UTC (missing: first-seen time, far future: clamped to
now); HTML sanitised with nh3 (a maintained binding of the Rust `ammonia` sanitiser) with
relative URLs resolved in the same pass; plain text kept for later stages.
"""

from __future__ import annotations

import functools
import hashlib
import html
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import nh3

from aggregator.parse.parsed import ParsedEntry, ParsedFeed
from aggregator.parse.signature import signature
from aggregator.records import Item

# Query parameters that only track the reader; removing them never changes the page.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "ref_src",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "vero_conv",
        "wickedid",
        "rb_clickid",
        "s_cid",
        "_ga",
        "_gl",
    }
)
TRACKING_PREFIXES = ("utm_",)
FUTURE_SLACK = timedelta(minutes=10)
URL_SCHEMES = {"http", "https", "mailto"}
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_entries(
    feed: ParsedFeed, *, source_url: str, base_url: str, now: datetime
) -> tuple[Item, ...]:
    """Normalise every entry. Of several entries with the same GUID or link, the first wins;
    entries with neither and the same content are told apart by their rank among those."""
    items: dict[str, Item] = {}
    for entry in feed.entries:
        item = normalise_entry(entry, source_url=source_url, base_url=base_url, now=now)
        key, n = item.key, 1
        while key.startswith("sha256:") and key in items:
            n += 1
            key = f"{item.key}#{n}"
        items.setdefault(key, item if key == item.key else replace(item, key=key))
    return tuple(items.values())


def normalise_entry(entry: ParsedEntry, *, source_url: str, base_url: str, now: datetime) -> Item:
    url = _absolute_http_url(entry.link, base_url)
    canonical = canonical_url(url) if url else None
    content_html = sanitise_html(entry.content_html, base_url) if entry.content_html else None
    summary_html = sanitise_html(entry.summary_html, base_url) if entry.summary_html else ""
    summary_text = html_to_text(summary_html)
    content_text = html_to_text(content_html) if content_html else ""
    text = content_text if len(content_text) > len(summary_text) else summary_text
    if not summary_html and content_html:
        summary_html = content_html
    title = collapse(html_to_text(entry.title)) if entry.title else ""
    if not title:
        title = shorten(text, 80) if text else "(untitled)"
    content_hash = _sha256(f"{title}\n{text}\n{url or ''}")
    if entry.guid:
        key = entry.guid
    elif canonical:
        key = canonical
    else:
        key = "sha256:" + _sha256(f"{title}\n{text}")
    published = clamp_date(entry.published or entry.updated, now)
    updated = clamp_date(entry.updated, now) or published
    return Item(
        source_url=source_url,
        key=key[:2000],
        url=url,
        canonical_url=canonical,
        title=title,
        summary_html=summary_html,
        content_html=content_html,
        text=text,
        author=collapse(entry.author) or None if entry.author else None,
        tags=tuple(dict.fromkeys(collapse(t).lower() for t in entry.tags if collapse(t))),
        published=published or now,
        updated=max(updated or now, published or now),
        dated=published is not None,
        content_hash=content_hash,
        signature=signature(title, text),
    )


def canonical_url(url: str) -> str | None:
    """Lower-case scheme and host, no default port, no fragment, no tracking parameters,
    sorted query. Path case is kept: paths are case-sensitive. None for non-http URLs."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in ("http", "https") or not host:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    )
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), ""))


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _absolute_http_url(link: str | None, base_url: str) -> str | None:
    if not link:
        return None
    try:
        absolute = urljoin(base_url, link.strip())
        scheme = urlsplit(absolute).scheme.lower()
    except ValueError:
        return None
    return absolute if scheme in ("http", "https") else None


def sanitise_html(fragment: str, base_url: str) -> str:
    """Clean untrusted HTML: no script, style, event handlers or unsafe URL schemes;
    relative links and images resolved against `base_url`; links get
    rel="noopener noreferrer nofollow"."""
    return _cleaner(base_url).clean(fragment).strip()


@functools.lru_cache(maxsize=64)
def _cleaner(base_url: str) -> nh3.Cleaner:
    """One sanitiser per base URL (a feed's entries share it), resolving relative URLs in
    Rust: no Python call per attribute."""
    options: dict[str, Any] = {
        "url_schemes": URL_SCHEMES,
        "link_rel": "noopener noreferrer nofollow",
    }
    try:
        return nh3.Cleaner(**options, url_relative=("rewrite_with_base", base_url))
    except ValueError:  # not a URL to resolve against: relative URLs are dropped
        return nh3.Cleaner(**options, url_relative="deny")


_TEXT_ONLY = nh3.Cleaner(tags=set())


def html_to_text(fragment: str | None) -> str:
    """Plain text of an HTML fragment: tags dropped (script and style with their content),
    entities decoded, whitespace collapsed."""
    if not fragment:
        return ""
    bare = _TEXT_ONLY.clean(fragment.replace("<", " <"))
    return collapse(html.unescape(bare))


def collapse(text: str) -> str:
    """Whitespace runs as one space, none at the ends (str.split's whitespace is re's
    `\\s`, at a fraction of the cost of a substitution)."""
    return " ".join(text.split())


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary and mark the cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:.-– ")
    return (cut or text[: limit - 1]) + "…"


def clamp_date(value: datetime | None, now: datetime) -> datetime | None:
    """A UTC date no later than `now` (feeds that date entries in the future would
    otherwise pin them to the top)."""
    if value is None:
        return None
    if value > now + FUTURE_SLACK:
        return now
    return value


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
