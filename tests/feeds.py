"""Small feed documents written for the tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

DAY = (datetime.now(UTC) - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
"""Midnight (UTC) of the day before the tests started. The CLI runs on the real clock, so
the fixtures it reads are dated on this day: always 0 to 48 hours old, inside the default
`publish.window` (3 days), whatever the calendar says. In-process tests keep the fixed
`NOW` of conftest instead."""


def when(hour: int, minute: int = 0) -> datetime:
    """A moment of DAY (hour may pass 23: the next day, still in the past)."""
    return DAY + timedelta(hours=hour, minutes=minute)


def rfc822(hour: int, minute: int = 0) -> str:
    """An RSS pubDate on DAY, e.g. "Tue, 01 Dec 2026 09:00:00 GMT"."""
    return format_datetime(when(hour, minute), usegmt=True)


def iso(hour: int, minute: int = 0) -> str:
    """An Atom date on DAY, e.g. "2026-12-01T09:00:00Z"."""
    return when(hour, minute).strftime("%Y-%m-%dT%H:%M:%SZ")


def rss(
    items: list[dict[str, str]], title: str = "Test feed", link: str = "https://example.com/"
) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>{escape(link)}</link><description>d</description>",
    ]
    for item in items:
        parts.append("<item>")
        for key in ("title", "link", "guid", "pubDate", "description", "category"):
            if key in item:
                attrs = ' isPermaLink="false"' if key == "guid" else ""
                parts.append(f"<{key}{attrs}>{escape(item[key])}</{key}>")
        parts.append("</item>")
    parts.append("</channel></rss>\n")
    return "".join(parts).encode("utf-8")


def atom(entries: list[dict[str, str]], title: str = "Atom test") -> bytes:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">',
        f"<title>{escape(title)}</title><id>urn:test:feed</id>"
        f"<updated>{iso(10)}</updated><author><name>A</name></author>",
    ]
    for e in entries:
        parts.append(
            f"<entry><title>{escape(e['title'])}</title><id>{escape(e['id'])}</id>"
            f'<link rel="alternate" href="{escape(e["link"])}"/>'
            f"<updated>{e.get('updated', iso(9))}</updated>"
            f'<summary type="html">{escape(e.get("summary", ""))}</summary></entry>'
        )
    parts.append("</feed>\n")
    return "".join(parts).encode("utf-8")
