"""Honest status (issue 16): the status page counts and orders its cards from one record,
the run line and `status` say the same of a source that is an HTML page (also after the
page answers 304), and a run that publishes nothing says why, naming the setting."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import lxml.html
import pytest

from aggregator.errors import FeedErrorKind
from tests.conftest import run_cli
from tests.feeds import rfc822, rss, when
from tests.feedserver import FeedServer, Route
from tests.integration.test_hostile import page

pytestmark = pytest.mark.clock  # dated on the real clock: also run a year ahead


def entries(name: str, hour: int, n: int = 2) -> bytes:
    return rss(
        [
            {
                "title": f"{name} reports matter {name}{i}",
                "link": f"https://{name}.example/{i}",
                "guid": f"{name}-{i}",
                "pubDate": rfc822(hour),
                "description": f"About {name} {i}.",
            }
            for i in range(n)
        ]
    )


def configure(tmp_path: Path, server: FeedServer, *names: str) -> None:
    (tmp_path / "feeds.yaml").write_text(
        "feeds:\n" + "".join(f"  - {{url: {server.url(f'/{n}.xml')}, name: {n}}}\n" for n in names)
    )


def test_status_page_counts_and_orders_from_the_same_cards(tmp_path, feed_server):
    feed_server.routes["/alpha.xml"] = Route(body=entries("alpha", 9))
    feed_server.routes["/beta.xml"] = Route(status=500)
    feed_server.routes["/gamma.xml"] = Route(status=404)
    configure(tmp_path, feed_server, "alpha", "beta", "gamma")
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    root = lxml.html.parse(str(tmp_path / "output" / "status.html")).getroot()
    heading = root.cssselect("header p")[0].text_content()
    assert heading.startswith("3 sources: 1 ok, 2 failing · 2 need a look (listed first)")
    cards = root.cssselect("section.source")
    states = [(c.cssselect("h2 a")[0].text, c.cssselect(".state")[0].text) for c in cards]
    assert states == [("beta", "failing"), ("gamma", "failing"), ("alpha", "ok")]


def test_a_page_source_is_reported_the_same_by_run_and_status(tmp_path, feed_server):
    # The page and its feed share a Last-Modified, so that a page fetched with the feed's
    # validators would answer 304 and hide the feed.
    modified = "Mon, 30 Nov 2026 10:00:00 GMT"
    feed_server.routes["/blog.xml"] = Route(
        body=page("/feed.xml"), headers={"Content-Type": "text/html"}, last_modified=modified
    )
    feed_server.routes["/feed.xml"] = Route(body=entries("blog", 9, 1), last_modified=modified)
    configure(tmp_path, feed_server, "blog")
    hint = f"replace url {feed_server.url('/blog.xml')} with {feed_server.url('/feed.xml')}"
    for run, new in ((1, 1), (2, 1)):
        if run == 2:  # the feed has news; the page is the same
            feed_server.routes["/feed.xml"] = Route(body=entries("blog", 10, 2))
        result = run_cli("run", "--once", "--all", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert f"ok    blog: {new} new" in result.stdout
        assert f"[{hint} (an HTML page; this is its feed)]" in result.stdout
        (row,) = [
            json.loads(line)
            for line in run_cli("status", "--json", cwd=tmp_path).stdout.splitlines()
        ]
        assert row["suggestions"] == [f"{hint} (an HTML page; this is its feed)"]
    asked = feed_server.requests_for("/blog.xml")[-1].headers
    assert "If-Modified-Since" not in asked  # the feed's validators are not the page's


def test_a_run_that_publishes_nothing_says_why(tmp_path, feed_server):
    # Midnight nine days before DAY: 10 to 11 days old, so 11d shows it whatever the time
    # of day (an age in whole days, rounded up, read off the real clock).
    feed_server.routes["/old.xml"] = Route(body=entries("old", -24 * 9))
    configure(tmp_path, feed_server, "old")
    result = run_cli("run", "--once", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "0 stories published" in lines[-2]
    assert lines[-1].startswith("publish: no story: all 2 stored entries are older than ")
    days = (datetime.now(UTC) - when(-24 * 9)).days + 1
    assert "publish.window (3d)" in lines[-1]
    assert f"(publish.window: {days}d would show it)" in lines[-1]


def test_status_shows_intervals_in_whole_units(tmp_path, feed_server):
    feed_server.routes["/alpha.xml"] = Route(body=entries("alpha", 9))
    configure(tmp_path, feed_server, "alpha")
    (tmp_path / "feeds.yaml").write_text(
        (tmp_path / "feeds.yaml").read_text().replace("name: alpha}", "name: alpha, interval: 90m}")
    )
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    assert "(2 entries, every 90m, next " in run_cli("status", cwd=tmp_path).stdout


def test_status_reads_sqlite_without_sqlalchemy_and_the_same_as_the_store(tmp_path, feed_server):
    """`status` reads an SQLite store with sqlite3 (aggregator.health.peek) to start fast; what it
    reads must be what the Store reads."""
    from aggregator.health.peek import peek_states
    from aggregator.store import Store

    feed_server.routes["/alpha.xml"] = Route(body=entries("alpha", 9), etag='"a"')
    feed_server.routes["/beta.xml"] = Route(status=500)
    configure(tmp_path, feed_server, "alpha", "beta")
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    url = f"sqlite:///{tmp_path / 'aggregator.sqlite'}"
    store = Store(url)
    peeked = peek_states(url)
    assert peeked == (store.feed_states(), store.entry_counts())
    assert peeked[0][feed_server.url("/beta.xml")].error_count == 1
    assert peek_states(f"sqlite:///{tmp_path / 'none.sqlite'}") is None  # the Store creates it
    assert peeked[0][feed_server.url("/beta.xml")].last_error_kind is FeedErrorKind.HTTP_5XX
    assert peek_states("postgresql://db.example/agg") is None


def test_a_stored_error_kind_this_version_does_not_know_reads_as_unknown(tmp_path, feed_server):
    """The kind column keeps a plain string; one written by another version is read as
    UNKNOWN (an ordinary failure, its message kept) by the Store and by peek alike."""
    from aggregator.health.peek import peek_states
    from aggregator.store import Store

    feed_server.routes["/beta.xml"] = Route(status=500)
    configure(tmp_path, feed_server, "beta")
    run_cli("run", "--once", cwd=tmp_path)
    with sqlite3.connect(tmp_path / "aggregator.sqlite") as db:
        db.execute("UPDATE sources SET last_error_kind = 'from_the_future'")
    db.close()
    url = f"sqlite:///{tmp_path / 'aggregator.sqlite'}"
    peeked = peek_states(url)
    assert peeked is not None
    (state,) = peeked[0].values()
    assert state.last_error_kind is FeedErrorKind.UNKNOWN
    assert state.last_error == "HTTP 500 Internal Server Error"
    assert Store(url).feed_states() == peeked[0]
    (row,) = map(json.loads, run_cli("status", "--json", cwd=tmp_path).stdout.splitlines())
    assert row["last_error"] == "unknown: HTTP 500 Internal Server Error"
