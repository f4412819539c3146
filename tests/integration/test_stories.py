"""Stories end to end: independent reports merge, same-topic events stay apart, a restart
changes nothing, a later source joins the existing story, GUID churn stores nothing new,
and `explain` says why."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.config import load_config
from aggregator.publish.digest import atom_id
from aggregator.store import Store
from aggregator.stories.grouping import Decision, Grouping
from tests.conftest import run_cli
from tests.feeds import rfc822, rss
from tests.feedserver import FeedServer, Route
from tests.integration.test_run import write_config

pytestmark = pytest.mark.clock  # dated on the real clock: also run a year ahead

GEMINI = {
    "title": "Google releases Gemini 3 with stronger reasoning",
    "link": "https://wire.example/gemini-3",
    "guid": "w-gemini",
    "pubDate": rfc822(8),
    "description": "Google released Gemini 3, a model it says beats its predecessor on "
    "reasoning and coding benchmarks, available today to developers.",
}
GEMINI_2 = {
    "title": "Gemini 3 is here: Google's new model targets reasoning and code",
    "link": "https://daily.example/gemini",
    "guid": "d-gemini",
    "pubDate": rfc822(9),
    "description": "Google has launched Gemini 3. The company claims gains over its "
    "predecessor on reasoning and coding benchmarks; developers can use it today.",
}
CLAUDE = {
    "title": "Anthropic releases Claude 5 model for enterprise customers",
    "link": "https://daily.example/claude-5",
    "guid": "d-claude",
    "pubDate": rfc822(9, 30),
    "description": "Anthropic released Claude 5, a model aimed at enterprise customers, with a "
    "larger context window and lower prices for long documents.",
}
GEMINI_3 = {
    "title": "Hands-on with Gemini 3, Google's new reasoning model",
    "link": "https://blog.example/gemini-three",
    "guid": "b-gemini",
    "pubDate": rfc822(10),
    "description": "We tried Gemini 3, which Google released today. Reasoning and coding feel "
    "sharper than its predecessor, and developers can use it now.",
}


def stories(tmp_path: Path) -> dict[str, str]:
    out = run_cli("export", "entries", cwd=tmp_path).stdout
    return {e["guid"]: e["story_id"] for e in map(json.loads, out.splitlines())}


def setup(tmp_path: Path, server: FeedServer) -> None:
    server.routes["/wire.xml"] = Route(body=rss([GEMINI]))
    server.routes["/daily.xml"] = Route(body=rss([GEMINI_2, CLAUDE]))
    write_config(tmp_path, server, "/wire.xml", "/daily.xml")
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0


def test_independent_reports_merge_and_other_events_stay_apart(tmp_path, feed_server):
    setup(tmp_path, feed_server)
    found = stories(tmp_path)
    assert found["w-gemini"] == found["d-gemini"]
    assert found["d-claude"] != found["w-gemini"]

    explained = run_cli("explain", found["w-gemini"], cwd=tmp_path)
    assert explained.returncode == 0, explained.stderr
    assert "members (2 entries from 2 sources)" in explained.stdout
    assert "joined: average similarity" in explained.stdout
    assert "score:" in explained.stdout and "coverage" in explained.stdout
    by_entry = run_cli("explain", "1", cwd=tmp_path)
    assert by_entry.returncode == 0
    assert "*#1 " in by_entry.stdout
    missing = run_cli("explain", "no-such-story", cwd=tmp_path)
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr


def test_a_restart_changes_nothing_and_a_later_source_joins(tmp_path, feed_server):
    setup(tmp_path, feed_server)
    before = stories(tmp_path)
    atom_before = (tmp_path / "output" / "feed.atom").read_text()
    # A new process, the same store, nothing new: every story as it was.
    assert run_cli("run", "--once", "--all", cwd=tmp_path).returncode == 0
    assert stories(tmp_path) == before
    # A third source reports the same event in a later run: it joins the stored story,
    # placed by an index rebuilt from stored signatures.
    feed_server.routes["/blog.xml"] = Route(body=rss([GEMINI_3]))
    write_config(tmp_path, feed_server, "/wire.xml", "/daily.xml", "/blog.xml")
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    after = stories(tmp_path)
    assert after["b-gemini"] == before["w-gemini"]
    assert {k: after[k] for k in before} == before
    atom_id = atom_before.split("<id>urn:uuid:")[1].split("<")[0]
    assert f"urn:uuid:{atom_id}" in (tmp_path / "output" / "feed.atom").read_text()


def test_guids_that_change_every_poll_do_not_flood_the_store(tmp_path, feed_server):
    feed_server.routes["/churn.xml"] = Route(body=rss([{**GEMINI, "guid": "poll-1"}]))
    write_config(tmp_path, feed_server, "/churn.xml")
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    feed_server.routes["/churn.xml"] = Route(body=rss([{**GEMINI, "guid": "poll-2"}]))
    result = run_cli("run", "--once", "--all", cwd=tmp_path)
    assert "0 new, 0 updated" in result.stdout
    assert list(stories(tmp_path)) == ["poll-2"]


def test_an_entry_that_joins_two_stories_makes_them_one(tmp_path, feed_server):
    """Two reports of one event stored as two stories (as a missed candidate, or an older
    engine, may leave them); a third report joins both: one story under the older id, the
    other id's item leaves the feed, and `explain` of that id says where it went."""
    copy = {**GEMINI_2, "description": GEMINI["description"]}  # the wire's text, retitled
    feed_server.routes["/wire.xml"] = Route(body=rss([GEMINI]))
    feed_server.routes["/daily.xml"] = Route(body=rss([copy]))
    config = write_config(tmp_path, feed_server, "/wire.xml", "/daily.xml")
    assert run_cli("run", "--once", "--poll-only", cwd=tmp_path).returncode == 0
    store = Store(load_config(config).store_url)
    ids = {e.key: e.id for e in store.unassigned_entries()}
    apart = {"w-gemini": "kept-apart-w", "d-gemini": "kept-apart-d"}  # w's is the older
    store.assign_stories(
        Grouping(
            decisions={
                ids[k]: Decision(story_id=s, similarity=0.0, reason="no similar story")
                for k, s in apart.items()
            },
            merges={},
        ),
        now=datetime.now(UTC),
    )
    store.close()

    feed_server.routes["/blog.xml"] = Route(body=rss([GEMINI_3]))
    write_config(tmp_path, feed_server, "/wire.xml", "/daily.xml", "/blog.xml")
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    assert set(stories(tmp_path).values()) == {"kept-apart-w"}
    feed = (tmp_path / "output" / "feed.atom").read_text()
    assert atom_id("kept-apart-w") in feed and atom_id("kept-apart-d") not in feed

    explained = run_cli("explain", "kept-apart-d", cwd=tmp_path)
    assert explained.returncode == 0, explained.stderr
    assert "story kept-apart-d was merged into story kept-apart-w" in explained.stdout
    assert "joined both" in explained.stdout
    assert "members (3 entries from 3 sources)" in explained.stdout
    assert "later its story kept-apart-d was merged into this one" in explained.stdout
