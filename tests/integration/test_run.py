"""`aggregator run --once` end to end: real CLI process, real HTTP server, real SQLite."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import feedparser
import pytest

from aggregator import HOMEPAGE, __version__
from aggregator.config import parse_config
from aggregator.fetch.http import Fetcher
from aggregator.run.pipeline import process_and_publish, run_once
from aggregator.store import Store
from tests.conftest import NOW, run_cli
from tests.feeds import atom, iso, rfc822, rss
from tests.feedserver import FeedServer, Route

pytestmark = pytest.mark.clock  # dated on the real clock: also run a year ahead

ARTICLE = "https://news.example.com/2026/11/28/model-release"


def write_config(tmp_path: Path, server: FeedServer, *paths: str) -> Path:
    lines = ["feeds:"]
    for path in paths:
        lines += [f"  - url: {server.url(path)}", f"    name: {path.strip('/').split('.')[0]}"]
    config = tmp_path / "feeds.yaml"
    config.write_text("\n".join(lines) + "\n")
    return config


def export(tmp_path: Path) -> list[dict[str, object]]:
    result = run_cli("export", "entries", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def wire_feed(title: str = "Helix releases Aurora") -> bytes:
    return rss(
        [
            {
                "title": title,
                "link": ARTICLE,
                "guid": "wire-1",
                "pubDate": rfc822(9),
                "description": "<p>Open weights.</p>",
            },
            {
                "title": "Another story",
                "link": "https://news.example.com/other",
                "guid": "wire-2",
                "pubDate": rfc822(8),
                "description": "Second.",
            },
        ]
    )


def test_second_run_is_conditional_and_stores_nothing_new(tmp_path, feed_server):
    feed_server.routes["/wire.xml"] = Route(
        body=wire_feed(),
        etag='"v1"',
        last_modified="Sat, 28 Nov 2026 09:00:00 GMT",
        headers={"Content-Type": "application/rss+xml"},
    )
    write_config(tmp_path, feed_server, "/wire.xml")

    first = run_cli("run", "--once", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "2 new" in first.stdout
    assert len(export(tmp_path)) == 2

    second = run_cli("run", "--once", "--all", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "not modified" in second.stdout
    last = feed_server.requests_for("/wire.xml")[-1]
    assert last.headers["If-None-Match"] == '"v1"'
    assert last.headers["If-Modified-Since"] == "Sat, 28 Nov 2026 09:00:00 GMT"
    # The default User-Agent names the version and the project's home (RFC 9110 10.1.5).
    assert (
        last.headers["User-Agent"]
        == f"aggregator/{__version__} (self-hosted feed aggregator; +{HOMEPAGE})"
    )
    assert len(export(tmp_path)) == 2


def test_run_once_polls_only_due_sources(tmp_path, feed_server):
    feed_server.routes["/wire.xml"] = Route(body=wire_feed())
    write_config(tmp_path, feed_server, "/wire.xml")
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    again = run_cli("run", "--once", cwd=tmp_path)
    assert again.returncode == 0
    assert len(feed_server.requests_for("/wire.xml")) == 1  # interval (1h) not elapsed
    assert "0 sources polled" in again.stdout


def test_a_failing_source_does_not_stop_the_others(tmp_path, feed_server):
    feed_server.routes["/broken.xml"] = Route(body=b"oops", status=500)
    feed_server.routes["/wire.xml"] = Route(body=wire_feed())
    feed_server.routes["/gone.xml"] = Route(body=b"", status=410)
    write_config(tmp_path, feed_server, "/broken.xml", "/wire.xml", "/gone.xml")

    result = run_cli("run", "--once", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "FAIL  broken: http_5xx: HTTP 500" in result.stdout
    assert "FAIL  gone: gone: HTTP 410" in result.stdout
    assert "ok    wire: 2 new" in result.stdout
    assert len(export(tmp_path)) == 2
    assert (tmp_path / "output" / "feed.atom").exists()

    strict = run_cli("run", "--once", "--all", "--strict", cwd=tmp_path)
    assert strict.returncode == 1
    assert "Traceback" not in strict.stderr

    db = sqlite3.connect(tmp_path / "aggregator.sqlite")
    rows = dict(db.execute("select name, last_error_kind from sources").fetchall())
    assert rows == {"broken": "http_5xx", "wire": None, "gone": "gone"}


def test_an_edited_entry_is_updated_not_duplicated(tmp_path, feed_server):
    feed_server.routes["/wire.xml"] = Route(body=wire_feed("Helix releases Aurora"))
    write_config(tmp_path, feed_server, "/wire.xml")
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    before = {e["guid"]: e for e in export(tmp_path)}

    feed_server.routes["/wire.xml"] = Route(body=wire_feed("Helix releases Aurora-70B (updated)"))
    result = run_cli("run", "--once", "--all", cwd=tmp_path)
    assert "0 new, 1 updated" in result.stdout
    after = {e["guid"]: e for e in export(tmp_path)}
    assert after.keys() == before.keys()
    assert after["wire-1"]["title"] == "Helix releases Aurora-70B (updated)"
    assert after["wire-1"]["id"] == before["wire-1"]["id"]
    assert after["wire-1"]["story_id"] == before["wire-1"]["story_id"]
    assert after["wire-1"]["updated"] > before["wire-1"]["updated"]
    # The other entry is untouched, but for its story's score, which ages between runs.
    assert {**after["wire-2"], "score": None} == {**before["wire-2"], "score": None}


def test_the_same_article_through_two_sources_is_one_story(tmp_path, feed_server):
    feed_server.routes["/wire.xml"] = Route(body=wire_feed())
    feed_server.routes["/blog.atom"] = Route(
        body=atom(
            [
                {
                    "title": "Helix's Aurora is out",
                    "id": "urn:blog:1",
                    "link": f"{ARTICLE}?utm_source=twitter&utm_medium=social&fbclid=abc#comments",
                    "summary": "Syndicated copy.",
                }
            ]
        )
    )
    write_config(tmp_path, feed_server, "/wire.xml", "/blog.atom")
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0

    entries = export(tmp_path)
    assert len(entries) == 3
    same = [e for e in entries if e["canonical_url"] == ARTICLE]
    assert len(same) == 2
    assert {e["feed_url"] for e in same} == {
        feed_server.url("/wire.xml"),
        feed_server.url("/blog.atom"),
    }
    assert same[0]["story_id"] == same[1]["story_id"]
    assert same[0]["score"] == same[1]["score"]
    other = next(e for e in entries if e["canonical_url"] != ARTICLE)
    assert other["story_id"] != same[0]["story_id"]

    feed = feedparser.parse((tmp_path / "output" / "feed.atom").read_bytes())
    assert len(feed.entries) == 2
    merged = next(
        e
        for e in feed.entries
        if "Also covered by" in e.content[0].value
        and "wire" in e.content[0].value
        and "blog" in e.content[0].value
    )
    assert merged.link == ARTICLE


def test_export_entries_fields(tmp_path, feed_server):
    feed_server.routes["/wire.xml"] = Route(body=wire_feed())
    write_config(tmp_path, feed_server, "/wire.xml")
    run_cli("run", "--once", cwd=tmp_path)
    entry = next(e for e in export(tmp_path) if e["guid"] == "wire-1")
    assert entry["feed_url"] == feed_server.url("/wire.xml")
    assert entry["url"] == entry["canonical_url"] == ARTICLE
    assert entry["title"] == "Helix releases Aurora"
    assert entry["published"] == iso(9)
    assert isinstance(entry["id"], int)
    assert isinstance(entry["story_id"], str)
    assert 0 <= entry["score"] <= 100
    # The score is stored with its components, which add up to it.
    db = sqlite3.connect(tmp_path / "aggregator.sqlite")
    score, components = db.execute(
        "select score, components from stories where id = ?", (entry["story_id"],)
    ).fetchone()
    parts = json.loads(components)
    assert set(parts) >= {
        "sources",
        "independent",
        "coverage",
        "velocity",
        "source_weight",
        "recency",
    }
    points = parts["coverage"] + parts["velocity"] + parts["source_weight"] + parts["recency"]
    assert abs(points - score) < 0.3


def test_db_and_output_options_override_the_config(tmp_path, feed_server):
    feed_server.routes["/wire.xml"] = Route(body=wire_feed())
    write_config(tmp_path, feed_server, "/wire.xml")
    elsewhere = tmp_path / "elsewhere"
    db_url = f"sqlite:///{elsewhere / 'store.db'}"
    result = run_cli(
        "--db", db_url, "--output", str(elsewhere / "out"), "run", "--once", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert (elsewhere / "store.db").exists()
    assert (elsewhere / "out" / "feed.atom").exists()
    assert not (tmp_path / "aggregator.sqlite").exists()
    assert not (tmp_path / "output").exists()


def test_an_unchanged_body_without_validators_is_not_parsed_again(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.routes["/plain.xml"] = Route(body=wire_feed())  # no ETag, no Last-Modified
    write_config(tmp_path, feed_server, "/plain.xml")
    first = run_cli("run", "--once", "--all", cwd=tmp_path)
    assert "plain: 2 new" in first.stdout, first.stdout
    again = run_cli("-v", "run", "--once", "--all", cwd=tmp_path)
    assert "not modified" in again.stdout, again.stdout
    assert len(feed_server.requests_for("/plain.xml")) == 2  # it was fetched, not parsed
    feed_server.routes["/plain.xml"] = Route(body=wire_feed("Helix releases Aurora 2"))
    changed = run_cli("run", "--once", "--all", cwd=tmp_path)
    assert "plain: 0 new, 1 updated" in changed.stdout, changed.stdout
    assert len(export(tmp_path)) == 2


# Ids that one URL canonicaliser would fold into `http://example.com/` (the W3C validator's
# canonical_uri.xml): RFC 4287 compares ids character by character, so they are four.
IDS = [
    "http://example.com/",
    "http://example.com/?",
    "http://example.com/#",
    "http://example.com/?#",
]


def test_ids_are_compared_as_written_within_a_source(tmp_path, feed_server):
    entries = [
        {"title": f"Entry {n}", "id": ident, "link": f"https://e.example/{n}", "updated": iso(9, n)}
        for n, ident in enumerate(IDS)
    ]
    items = [
        {
            "title": f"Item {n}",
            "guid": ident,
            "link": f"https://e.example/r{n}",
            "pubDate": rfc822(9, n),
        }
        for n, ident in enumerate(IDS)
    ]
    feed_server.routes["/atom-ids.xml"] = Route(body=atom(entries))
    # isPermaLink="true" (the default), and text/xml, which only feedparser reads: it resolved
    # them against the document's URL.
    feed_server.routes["/rss-ids.xml"] = Route(
        body=rss(items).replace(b' isPermaLink="false"', b""), headers={"Content-Type": "text/xml"}
    )
    write_config(tmp_path, feed_server, "/atom-ids.xml", "/rss-ids.xml")
    result = run_cli("run", "--once", cwd=tmp_path)
    assert "atom-ids: 4 new" in result.stdout and "rss-ids: 4 new" in result.stdout, result.stdout
    stored = export(tmp_path)
    for name in ("atom-ids.xml", "rss-ids.xml"):
        guids = [e["guid"] for e in stored if str(e["feed_url"]).endswith(name)]
        assert sorted(guids) == sorted(IDS)
    again = run_cli("run", "--once", "--all", cwd=tmp_path)
    assert again.stdout.count("not modified") == 2 and len(export(tmp_path)) == 8


def test_export_entries_filters_and_text(tmp_path, feed_server):
    """Issue 16: `export entries --since WHEN --source NAME`, with summary, content and
    text."""
    feed_server.routes["/wire.xml"] = Route(body=wire_feed())  # hours 9 and 8
    feed_server.routes["/blog.atom"] = Route(
        body=atom(
            [
                {
                    "title": "Blog post",
                    "id": "urn:blog:1",
                    "link": "https://blog.example/1",
                    "updated": iso(20),
                    "summary": "<p>A <b>bold</b> claim.</p>",
                }
            ]
        )
    )
    write_config(tmp_path, feed_server, "/wire.xml", "/blog.atom")
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0

    def guids(*args: str) -> list[str]:
        result = run_cli("export", "entries", *args, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return [json.loads(line)["guid"] for line in result.stdout.splitlines()]

    assert sorted(guids()) == ["urn:blog:1", "wire-1", "wire-2"]
    assert guids("--source", "BLOG") == ["urn:blog:1"]  # by name, as `check` matches it
    assert sorted(guids("--source", feed_server.url("/wire.xml"))) == ["wire-1", "wire-2"]
    assert sorted(guids("--since", iso(8, 30))) == ["urn:blog:1", "wire-1"]
    assert guids("--since", iso(8, 30), "--source", "wire") == ["wire-1"]
    assert guids("--since", "1000d") == guids()
    assert run_cli("export", "entries", "--source", "nope", cwd=tmp_path).returncode == 2
    assert run_cli("export", "entries", "--since", "soon", cwd=tmp_path).returncode == 2
    blog = next(e for e in export(tmp_path) if e["guid"] == "urn:blog:1")
    assert blog["summary"] == "<p>A <b>bold</b> claim.</p>"
    assert blog["content"] is None
    assert blog["text"] == "A bold claim."


def test_a_run_with_nothing_new_keeps_the_outputs_and_a_change_remakes_them(tmp_path, feed_server):
    """A cron run that brings nothing new leaves the outputs as they are (their stamp
    says what they were made from); a new entry, or an edit of feeds.yaml, remakes them."""
    feed_server.routes["/wire.xml"] = Route(body=wire_feed())
    config = write_config(tmp_path, feed_server, "/wire.xml")
    first = run_cli("run", "--once", cwd=tmp_path)
    assert "2 stories published" in first.stdout, first.stdout
    feed = tmp_path / "output" / "feed.atom"
    made = feed.read_bytes(), feed.stat().st_mtime_ns
    again = run_cli("run", "--once", "--all", cwd=tmp_path)
    assert "nothing new since the last publish" in again.stdout, again.stdout
    assert "2 stories published" in again.stdout
    assert (feed.read_bytes(), feed.stat().st_mtime_ns) == made
    feed_server.routes["/wire.xml"] = Route(body=wire_feed("Helix releases Aurora, updated"))
    edited = run_cli("run", "--once", "--all", cwd=tmp_path)
    assert "nothing new" not in edited.stdout and b"updated" in feed.read_bytes()
    config.write_text(config.read_text().replace("feeds:", "publish: {max_items: 1}\nfeeds:"))
    fewer = run_cli("run", "--once", cwd=tmp_path)
    assert "1 stories published" in fewer.stdout, fewer.stdout


def test_rules_on_the_text_decide_what_is_published(tmp_path, feed_server):
    """Rules that read an entry's text (not its title) still apply when the window is
    ranked on light rows: the text is read for them."""
    topics = ["Helix releases the Aurora open model", "Basel lab designs binding proteins"]
    words = ["A sponsored post about", "A casino offer beside", "A report on"]
    feed_server.routes["/mixed.xml"] = Route(
        body=rss(
            [
                {
                    "title": f"{topic} ({n})",
                    "link": f"https://mixed.example/{t}/{n}",
                    "guid": f"mixed-{t}-{n}",
                    "pubDate": rfc822(9 + t),
                    "description": f"{lead} {topic.lower()}.",
                }
                for t, topic in enumerate(topics)
                for n, lead in enumerate(words)
            ]
        )
    )
    (tmp_path / "feeds.yaml").write_text(
        'rules:\n  - block: {text: "casino"}\n'
        f"feeds:\n  - url: {feed_server.url('/mixed.xml')}\n"
        "    filters: {exclude: [sponsored]}\n"
    )
    result = run_cli("run", "--once", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    items = json.loads((tmp_path / "output" / "feed.json").read_text())["items"]
    assert sorted(i["title"] for i in items) == sorted(f"{topic} (2)" for topic in topics)


def test_a_publish_writes_only_the_scores_that_changed(tmp_path, feed_server):
    dated = (NOW - timedelta(hours=2)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    feed_server.routes["/a.xml"] = Route(
        body=rss(
            [
                {"title": t, "link": f"https://a.example/{i}", "guid": f"a{i}", "pubDate": dated}
                for i, t in enumerate(["Helix releases Aurora", "Basel lab designs proteins"])
            ]
        )
    )
    config = parse_config(
        f"feeds:\n  - {feed_server.url('/a.xml')}\n",
        base_dir=tmp_path,
        store_url=f"sqlite:///{tmp_path}/store.db",
        output_dir=tmp_path / "output",
    )
    store = Store(config.store_url, create=True)
    run_once(config, store, Fetcher(config.fetch), NOW, poll_all=True)

    def scores() -> dict[str, tuple[float, str]]:
        with sqlite3.connect(tmp_path / "store.db") as db:
            return {
                i: (s, at) for i, s, at in db.execute("select id, score, scored_at from stories")
            }

    first = scores()
    assert len(first) == 2 and all(s is not None for s, _ in first.values())
    process_and_publish(config, store, NOW + timedelta(seconds=1))  # the same scores
    assert scores() == first
    process_and_publish(config, store, NOW + timedelta(hours=12))  # older: lower scores
    later = scores()
    store.close()
    assert all(later[i][0] < first[i][0] and later[i][1] > first[i][1] for i in first)
