"""RFC 5005 archives and WebSub: stories that leave the main feed stay reachable through
`prev-archive`; a configured hub is advertised and told about each change, and only then."""

from __future__ import annotations

import json
import re
import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import parse_qs

import feedparser
import pytest
from lxml import etree

from aggregator.publish.archive import page_name, render_page
from aggregator.records import PublishSettings
from tests.conftest import run_cli
from tests.feeds import rss
from tests.feedserver import FeedServer, Route

pytestmark = pytest.mark.clock  # dated on the real clock: also run a year ahead

ATOM = "{http://www.w3.org/2005/Atom}"
HISTORY = "{http://purl.org/syndication/history/1.0}"
URN = re.compile(r"urn:[a-z0-9][a-z0-9-]{1,31}:([a-z0-9()+,\-.:=@;$_!*']|%[0-9a-f]{2})+", re.I)


def batch(start: int, count: int) -> list[dict[str, str]]:
    base = datetime.now(UTC) - timedelta(days=2)
    return [
        {
            "title": f"Distinct event {i}: {word} announced",
            "link": f"https://a.example/{i}",
            "guid": f"a{i}",
            "pubDate": format_datetime(base + timedelta(minutes=i), usegmt=True),
        }
        for i, word in zip(
            range(start, start + count),
            ["zinc", "quartz", "opal", "basalt", "garnet", "marble"][start:],
            strict=False,
        )
    ]


def links(root: etree._Element) -> dict[str, str]:
    return {e.get("rel"): e.get("href") for e in root.findall(f"{ATOM}link")}


def test_archives_keep_what_left_the_feed_and_the_hub_hears_of_changes(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.routes["/a.xml"] = Route(body=rss(batch(0, 3)))
    feed_server.routes["/hub"] = Route(status=202)
    (tmp_path / "feeds.yaml").write_text(
        "publish: {link: 'https://digest.example/', max_items: 3, "
        f"hub: '{feed_server.url('/hub')}'}}\n"
        "score: {weights: {recency: 0, velocity: 0}}\n"
        f"feeds:\n  - {{url: {feed_server.url('/a.xml')}, name: A}}\n"
    )
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    out = tmp_path / "output"
    feed = etree.parse(str(out / "feed.atom")).getroot()
    found = links(feed)
    assert found["hub"] == feed_server.url("/hub")
    assert found["prev-archive"].startswith("https://digest.example/archive/feed-")
    page_file = out / found["prev-archive"].removeprefix("https://digest.example/")
    page = etree.parse(str(page_file)).getroot()
    assert page.find(f"{HISTORY}archive") is not None
    assert links(page)["current"] == "https://digest.example/feed.atom"
    assert "prev-archive" not in links(page)  # the first week has nothing before it
    assert feedparser.parse(page_file).bozo == 0

    pings = [r for r in feed_server.requests if r.method == "POST"]
    topics = sorted(parse_qs(r.body.decode())["hub.url"][0] for r in pings)
    assert topics == [f"https://digest.example/feed.{k}" for k in ("atom", "json", "rss")]
    assert all(parse_qs(r.body.decode())["hub.mode"] == ["publish"] for r in pings)
    assert json.loads((out / "feed.json").read_text())["hubs"] == [
        {"type": "WebSub", "url": feed_server.url("/hub")}
    ]

    # Nothing changed: no ping.
    assert run_cli("run", "--once", "--all", cwd=tmp_path).returncode == 0
    assert len([r for r in feed_server.requests if r.method == "POST"]) == 3

    # Three newer stories push the first three out of the feed, not out of reach.
    feed_server.routes["/a.xml"] = Route(body=rss(batch(0, 6)))
    assert run_cli("run", "--once", "--all", cwd=tmp_path).returncode == 0
    current = {e.link for e in feedparser.parse(out / "feed.atom").entries}
    assert current == {f"https://a.example/{i}" for i in (3, 4, 5)}
    archived = {e.link for e in feedparser.parse(page_file).entries}
    assert archived == {f"https://a.example/{i}" for i in range(6)}
    assert len([r for r in feed_server.requests if r.method == "POST"]) == 6


def test_the_hub_is_pinged_like_a_fetch_and_a_failing_hub_fails_nothing(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """The ping goes out on the fetch's HTTP stack: its User-Agent, no redirect followed;
    a hub that answers badly, or not at all, is logged and the run completes."""
    feed_server.routes["/a.xml"] = Route(body=rss(batch(0, 2)))
    feed_server.routes["/hub"] = Route(status=307, headers={"Location": "/moved"})
    feed_server.routes["/moved"] = Route(status=202)
    config = (
        "user_agent: 'digest-probe/1.0'\n"
        "publish: {{link: 'https://digest.example/', hub: '{hub}'}}\n"
        f"feeds:\n  - {{{{url: {feed_server.url('/a.xml')}, name: A}}}}\n"
    )
    (tmp_path / "feeds.yaml").write_text(config.format(hub=feed_server.url("/hub")))
    done = run_cli("run", "--once", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    pings = [r for r in feed_server.requests if r.method == "POST"]
    assert [r.path for r in pings] == ["/hub"] * 3  # the 307 is not followed
    assert {r.headers["User-Agent"] for r in pings} == {"digest-probe/1.0"}
    assert {r.headers["Content-Type"] for r in pings} == {"application/x-www-form-urlencoded"}
    assert "websub: " in done.stderr and "answered 307" in done.stderr

    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/hub"
    (tmp_path / "feeds.yaml").write_text(config.format(hub=closed))
    feed_server.routes["/a.xml"] = Route(body=rss(batch(0, 3)))
    done = run_cli("run", "--once", "--all", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"websub: {closed}: network: " in done.stderr
    assert links(etree.parse(str(tmp_path / "output" / "feed.atom")).getroot())["hub"] == closed


def test_archive_pages_chain_both_ways() -> None:
    settings = PublishSettings(link="https://d.example/")
    weeks = ["2026-W46", "2026-W47", "2026-W48"]
    entry = (
        b'<entry xmlns="http://www.w3.org/2005/Atom"><id>urn:x</id><title>t</title>'
        b"<updated>2026-11-20T00:00:00Z</updated></entry>"
    )
    middle = etree.fromstring(render_page("2026-W47", [entry], weeks, settings, "feed.atom"))
    assert links(middle) == {
        "self": "https://d.example/" + page_name("2026-W47"),
        "current": "https://d.example/feed.atom",
        "prev-archive": "https://d.example/" + page_name("2026-W46"),
        "next-archive": "https://d.example/" + page_name("2026-W48"),
    }
    assert middle.findtext(f"{ATOM}updated") == "2026-11-20T00:00:00Z"
    last = etree.fromstring(render_page("2026-W48", [entry], weeks, settings, "feed.atom"))
    assert "next-archive" not in links(last)
    # Each page's id is a valid URN of its own (RFC 8141, as the W3C validator checks it:
    # a URL after `urn:aggregator:` was not), the same on every rendering.
    ids = [page.findtext(f"{ATOM}id") or "" for page in (middle, last)]
    assert all(URN.fullmatch(i) for i in ids), ids
    assert ids[0] != ids[1]
    again = etree.fromstring(render_page("2026-W47", [], weeks, settings, "feed.atom"))
    assert again.findtext(f"{ATOM}id") == ids[0]
