"""Small feed documents written for the tests."""

from __future__ import annotations

from xml.sax.saxutils import escape


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
        "<updated>2026-11-28T10:00:00Z</updated><author><name>A</name></author>",
    ]
    for e in entries:
        parts.append(
            f"<entry><title>{escape(e['title'])}</title><id>{escape(e['id'])}</id>"
            f'<link rel="alternate" href="{escape(e["link"])}"/>'
            f"<updated>{e.get('updated', '2026-11-28T09:00:00Z')}</updated>"
            f'<summary type="html">{escape(e.get("summary", ""))}</summary></entry>'
        )
    parts.append("</feed>\n")
    return "".join(parts).encode("utf-8")
