"""parse.parsed: a feed document as read, before normalising (parse/feed.py and parse/fast.py
make it, parse/normalise.py turns it into Items). Records of the parse stage only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedEntry:
    guid: str | None
    link: str | None
    title: str | None
    summary_html: str | None
    content_html: str | None
    author: str | None
    tags: tuple[str, ...]
    published: datetime | None
    updated: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedFeed:
    title: str | None
    link: str | None
    version: str
    entries: tuple[ParsedEntry, ...]
    ttl: float | None = None  # seconds: RSS <ttl>, or sy:updatePeriod / sy:updateFrequency
    # Why the document is not well-formed (cut off, an XML error); then `entries` are only
    # those it holds whole, and no stored entry may be made shorter by them.
    broken: str | None = None
