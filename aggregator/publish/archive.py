"""archive: RFC 5005 archived feeds for the main curated feed. Pure: the main feed's
DigestItems -> entries to file; filed entries -> a week's page.

Every entry the main Atom feed ever carried is kept (its latest version) under the ISO week
in which it was first published. Each week with entries is an archive document,
`archive/feed-YYYY-Www.atom`, marked `<fh:archive/>`, linked to the weeks before and after
(`prev-archive`, `next-archive`) and to the subscription feed (`current`); the
subscription feed links to the newest week with `prev-archive`. A reader that was away
follows `prev-archive` until it reaches entries it has: nothing that left the window is
missed. Completed weeks never change; the current week's page grows until the week ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import urljoin

from lxml import etree

from aggregator.publish.digest import DigestItem
from aggregator.publish.feeds import render_entry
from aggregator.records import PublishSettings

ATOM = "http://www.w3.org/2005/Atom"
HISTORY = "http://purl.org/syndication/history/1.0"
AGG = "urn:aggregator:digest:1"
FOLDER = "archive"


def week_of(when: datetime) -> str:
    year, week, _ = when.isocalendar()
    return f"{year}-W{week:02d}"


def page_name(week: str) -> str:
    return f"{FOLDER}/feed-{week}.atom"


def archive_entries(items: Sequence[DigestItem]) -> dict[str, bytes]:
    """What the archive files of the main feed's items: each one's Atom <entry>, as the
    feed carries it, by id."""
    return {item.atom_id: render_entry(item) for item in items}


def render_page(
    week: str,
    entries: Sequence[bytes],
    weeks: Sequence[str],
    settings: PublishSettings,
    feed_file: str,
) -> bytes:
    """One week's archive document; `weeks`: every week with entries, oldest first."""
    at = weeks.index(week)
    root = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM, "fh": HISTORY, "agg": AGG})

    def add(tag: str, text: str) -> None:
        etree.SubElement(root, f"{{{ATOM}}}{tag}").text = text

    def link(rel: str, href: str) -> None:
        attrs = {"rel": rel, "href": urljoin(settings.link, href)}
        etree.SubElement(root, f"{{{ATOM}}}link", attrs, type="application/atom+xml")

    # A URN's name may not hold a URL's "/" (RFC 8141): the id is the UUID of the page URL.
    add("id", uuid.uuid5(uuid.NAMESPACE_URL, urljoin(settings.link, page_name(week))).urn)
    add("title", f"{settings.title}: archive, week {week}")
    parsed = [etree.fromstring(e) for e in entries]
    updated = max((e.findtext(f"{{{ATOM}}}updated") or "" for e in parsed), default="")
    add("updated", updated or "1970-01-01T00:00:00Z")
    author = etree.SubElement(root, f"{{{ATOM}}}author")
    etree.SubElement(author, f"{{{ATOM}}}name").text = settings.author
    link("self", page_name(week))
    link("current", feed_file)
    if at > 0:
        link("prev-archive", page_name(weeks[at - 1]))
    if at + 1 < len(weeks):
        link("next-archive", page_name(weeks[at + 1]))
    etree.SubElement(root, f"{{{HISTORY}}}archive")
    root.extend(parsed)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True))
