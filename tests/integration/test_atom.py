"""The published Atom follows RFC 4287, checked on the written file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import feedparser
import pytest
from lxml import etree, html

from aggregator import HOMEPAGE
from tests.conftest import run_cli
from tests.feeds import atom, rfc822, rss
from tests.feedserver import Route
from tests.integration.test_run import write_config

pytestmark = pytest.mark.clock  # dated on the real clock: also run a year ahead

A = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def items(prefix: str, n: int) -> list[dict[str, str]]:
    topics = [
        "Helix releases the Aurora open model",
        "Commerce tightens chip export rules",
        "Gripwise trains a robot foundation model",
        "Forecast centre runs a weather model",
        "Basel lab designs binding proteins",
        "Brussels publishes the AI act code",
        "Helix publishes the Aurora safety report",
        "Lumen generates long videos",
    ]
    return [
        {
            "title": f"{prefix}: {topics[i % len(topics)]}",
            "link": f"https://{prefix}.example/{i}?utm_source=rss",
            "guid": f"{prefix}-{i}",
            "pubDate": rfc822(10 - i % 10),
            "description": f"<p>{topics[i % len(topics)]}.</p>",
            "category": "research",
        }
        for i in range(n)
    ]


def check_rfc4287(path: Path) -> dict[str, etree._Element]:
    """Assert the rules of RFC 4287 this project relies on; return entries by id."""
    root = etree.parse(str(path)).getroot()
    assert root.tag == f"{A}feed"
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"{A}{name}")) == 1, name  # 4.1.1: exactly one
    assert RFC3339.match(root.findtext(f"{A}updated"))
    assert root.find(f"{A}author/{A}name") is not None  # 4.1.1: feed author covers entries
    self_links = [link for link in root.findall(f"{A}link") if link.get("rel") == "self"]
    assert len(self_links) == 1
    entries: dict[str, etree._Element] = {}
    for entry in root.findall(f"{A}entry"):
        for name in ("id", "title", "updated"):  # 4.1.2: exactly one of each
            assert len(entry.findall(f"{A}{name}")) == 1, name
        assert RFC3339.match(entry.findtext(f"{A}updated"))
        links = entry.findall(f"{A}link")
        alternates = [link for link in links if link.get("rel", "alternate") == "alternate"]
        assert len(alternates) == 1  # one alternate link per entry
        assert all(link.get("href") for link in links)
        assert all(link.get("rel") in ("alternate", "related") for link in links)
        related = [link for link in links if link.get("rel") == "related"]
        assert all(link.get("title") for link in related)
        content = entry.find(f"{A}content")
        assert content is not None and content.get("type") == "html"
        covered = [href for _, href in covered_by(content.text)]
        assert len(covered) == len(set(covered)), "one Also covered by link per article"
        entry_id = entry.findtext(f"{A}id")
        assert entry_id.startswith("urn:uuid:")
        assert entry_id not in entries, "ids are unique"
        entries[entry_id] = entry
    return entries


def covered_by(content: str) -> list[tuple[str, str]]:
    """The "Also covered by" links of an entry's content: (names, href)."""
    root = html.fragment_fromstring(content, create_parent="div")
    return [(a.text, a.get("href")) for p in root.find_class("covered") for a in p.findall("a")]


def test_written_atom_follows_rfc4287_and_ids_are_stable(tmp_path, feed_server):
    feed_server.routes["/a.xml"] = Route(body=rss(items("alpha", 8)))
    feed_server.routes["/b.atom"] = Route(
        body=atom(
            [
                {
                    "title": "Beta on the open model release",
                    "id": "urn:beta:0",
                    "link": "https://alpha.example/0?utm_medium=social",
                    "summary": "A copy.",
                },
                {
                    "title": "Beta interviews a data-centre operator about cooling",
                    "id": "urn:beta:1",
                    "link": "https://beta.example/1",
                    "summary": "Liquid cooling in practice.",
                },
            ]
        )
    )
    write_config(tmp_path, feed_server, "/a.xml", "/b.atom")
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    out = tmp_path / "output" / "feed.atom"
    first = check_rfc4287(out)
    assert len(first) == 9  # 10 entries, two of them one story
    assert feedparser.parse(out.read_bytes()).bozo == 0
    related = [
        link
        for e in first.values()
        for link in e.findall(f"{A}link")
        if link.get("rel") == "related"
    ]
    assert related, "rel=related links are written as such (feedgen issue 135)"
    merged = next(
        e for e in first.values() if e.find(f"{A}link").get("href") == "https://alpha.example/0"
    )
    # a and b carry the same article (b with a tracking parameter): one link naming both
    assert covered_by(merged.findtext(f"{A}content")) == [("b and a", "https://alpha.example/0")]

    # Nothing changes: the same ids and dates.
    assert run_cli("run", "--once", "--all", cwd=tmp_path).returncode == 0
    second = check_rfc4287(out)
    assert second.keys() == first.keys()
    assert all(second[i].findtext(f"{A}updated") == first[i].findtext(f"{A}updated") for i in first)

    # A new source covers an existing story: same id, not a new entry.
    feed_server.routes["/c.xml"] = Route(
        body=rss(
            [
                {
                    "title": "Gamma also reports",
                    "link": "https://alpha.example/3",
                    "guid": "gamma-0",
                    "pubDate": rfc822(11),
                    "description": "Third source.",
                }
            ]
        )
    )
    write_config(tmp_path, feed_server, "/a.xml", "/b.atom", "/c.xml")
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    third = check_rfc4287(out)
    assert third.keys() == first.keys()
    grown = next(
        e for e in third.values() if e.find(f"{A}link").get("href") == "https://alpha.example/3"
    )
    assert covered_by(grown.findtext(f"{A}content"))[-1][0].endswith(" c")
    story_id = grown.findtext(f"{A}id")
    assert grown.findtext(f"{A}updated") > first[story_id].findtext(f"{A}updated")


def test_every_format_carries_the_same_items(tmp_path, feed_server):
    feed_server.routes["/a.xml"] = Route(body=rss(items("alpha", 6)))
    write_config(tmp_path, feed_server, "/a.xml")
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    out = tmp_path / "output"
    atom_feed = feedparser.parse((out / "feed.atom").read_bytes())
    rss_feed = feedparser.parse((out / "feed.rss").read_bytes())
    json_feed = json.loads((out / "feed.json").read_text())
    assert atom_feed.bozo == 0 and rss_feed.bozo == 0
    assert rss_feed.version == "rss20"
    ids = [e.id for e in atom_feed.entries]
    assert len(ids) == 6
    assert [e.id for e in rss_feed.entries] == ids
    assert [i["id"] for i in json_feed["items"]] == ids
    assert [e.title for e in rss_feed.entries] == [e.title for e in atom_feed.entries]
    assert [i["title"] for i in json_feed["items"]] == [e.title for e in atom_feed.entries]
    # JSON Feed 1.1: version, title, items with ids and one content field at least.
    assert json_feed["version"] == "https://jsonfeed.org/version/1.1"
    assert json_feed["feed_url"].endswith("feed.json")
    assert all(
        "content_html" in i and i["date_published"].endswith("Z") for i in json_feed["items"]
    )
    # The score and source count, for programs: agg: elements in Atom, _aggregator in JSON.
    for entry, item in zip(atom_feed.entries, json_feed["items"], strict=True):
        assert int(entry["agg_score"]) == item["_aggregator"]["score"]
        assert item["_aggregator"]["about"] == f"{HOMEPAGE}#published-items"
        assert int(entry["agg_sources"]) == item["_aggregator"]["sources"] == 1
        assert f">{item['_aggregator']['score']}</strong> Impact Score" in entry.content[0].value
    links = {(link.rel, link.type): link.href for link in atom_feed.feed.links}
    assert links[("self", "application/atom+xml")].endswith("feed.atom")
    assert links[("alternate", "application/rss+xml")].endswith("feed.rss")
    assert links[("alternate", "application/feed+json")].endswith("feed.json")
    page = (out / "index.html").read_text()
    assert 'href="feed.rss"' in page and 'href="feed.json"' in page


def test_curated_outputs_in_every_format_linked_to_each_other(tmp_path, feed_server):
    feed_server.routes["/a.xml"] = Route(body=rss(items("alpha", 8)))
    feed_server.routes["/b.xml"] = Route(body=rss(items("beta", 3)))
    lines = [
        "publish:",
        "  link: https://feeds.example.org/",
        "  outputs:",
        "    - {name: betas, title: Beta only, sources: [b]}",
        "    - {name: none, title: Nothing, min_score: 100}",
        "feeds:",
        f"  - {{url: {feed_server.url('/a.xml')}, name: a}}",
        f"  - {{url: {feed_server.url('/b.xml')}, name: b, tags: [bee]}}",
    ]
    (tmp_path / "feeds.yaml").write_text("\n".join(lines) + "\n")
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    out = tmp_path / "output"
    for name in ("feed", "betas", "none"):
        stem = out / name
        atom = feedparser.parse(stem.with_suffix(".atom").read_bytes())
        assert atom.bozo == 0, name
        assert feedparser.parse(stem.with_suffix(".rss").read_bytes()).bozo == 0
        assert json.loads(stem.with_suffix(".json").read_text())["version"].endswith("1.1")
        links = {(link.rel, link.get("type")): link.href for link in atom.feed.links}
        assert links[("self", "application/atom+xml")] == f"https://feeds.example.org/{name}.atom"
        related = {link.href for link in atom.feed.links if link.rel == "related"}
        assert len(related) == 2  # the two other curated feeds
    betas = feedparser.parse((out / "betas.atom").read_bytes())
    assert len(betas.entries) == 3
    assert all("bee" in [t.term for t in e.tags] for e in betas.entries)  # source tags too
    assert feedparser.parse((out / "none.atom").read_bytes()).entries == []
    # beta reported three of the same events as alpha: one story each
    assert len(feedparser.parse((out / "feed.atom").read_bytes()).entries) == 8
    page = (out / "index.html").read_text()
    assert 'href="betas.html"' in page and 'href="none.html"' in page
    assert (out / "betas.html").read_text().count("<article") == 3


def test_related_links_do_not_move_on_an_idle_run(tmp_path, feed_server):
    feed_server.routes["/a.xml"] = Route(body=rss(items("alpha", 8)))
    write_config(tmp_path, feed_server, "/a.xml")
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0

    def related() -> dict[str, list[str]]:
        feed = feedparser.parse((tmp_path / "output" / "feed.atom").read_bytes())
        return {
            e.id: [link.href for link in e.links if link.rel == "related"] for e in feed.entries
        }

    before = related()
    assert any(before.values())
    assert run_cli("run", "--once", "--all", cwd=tmp_path).returncode == 0
    assert related() == before


def test_rss_and_json_feed_follow_their_specs(tmp_path, feed_server):
    """The RSS 2.0 and JSON Feed 1.1 rules (as the W3C and JSON Feed validators check
    them) that the written files must meet."""
    from email.utils import parsedate_to_datetime

    feed_server.routes["/a.xml"] = Route(body=rss(items("alpha", 5)))
    write_config(tmp_path, feed_server, "/a.xml")
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    out = tmp_path / "output"
    channel = etree.parse(str(out / "feed.rss")).getroot().find("channel")
    for name in ("title", "link", "description"):  # required channel elements
        assert channel.findtext(name), name
    parsedate_to_datetime(channel.findtext("lastBuildDate"))  # RFC 822 dates
    self_link = channel.find("{http://www.w3.org/2005/Atom}link")
    assert self_link.get("rel") == "self" and self_link.get("href").endswith("feed.rss")
    rss_items = channel.findall("item")
    assert len(rss_items) == 5
    guids = [i.findtext("guid") for i in rss_items]
    assert len(set(guids)) == 5
    for item in rss_items:
        assert item.findtext("title") and item.findtext("description")
        assert item.find("guid").get("isPermaLink") == "false"  # a URN, not a URL
        assert item.findtext("link").startswith("https://")
        parsedate_to_datetime(item.findtext("pubDate"))
    doc = json.loads((out / "feed.json").read_text())
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(doc["title"], str) and doc["title"]
    assert all(
        key.startswith("_")
        or key
        in {
            "version",
            "title",
            "home_page_url",
            "feed_url",
            "description",
            "user_comment",
            "next_url",
            "icon",
            "favicon",
            "authors",
            "language",
            "expired",
            "hubs",
            "items",
        }
        for key in doc
    )
    for item in doc["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert item.get("content_html") or item.get("content_text")
        assert RFC3339.match(item["date_published"]) and RFC3339.match(item["date_modified"])
        assert item["url"].startswith("https://")
        assert all(
            key.startswith("_")
            or key
            in {
                "id",
                "url",
                "external_url",
                "title",
                "content_html",
                "content_text",
                "summary",
                "image",
                "banner_image",
                "date_published",
                "date_modified",
                "authors",
                "tags",
                "language",
                "attachments",
            }
            for key in item
        )
