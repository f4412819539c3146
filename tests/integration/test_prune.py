"""`prune`: old entries that no published story needs leave the store, the file shrinks,
and a feed that still lists them does not bring them back."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from aggregator.records import FeedSource, FeedState, Item
from aggregator.store import Store
from aggregator.stories.grouping import Decision, Grouping
from tests.conftest import run_cli
from tests.feeds import rss
from tests.feedserver import FeedServer, Route
from tests.records import item

pytestmark = pytest.mark.clock  # dated on the real clock: also run a year ahead


def dated(days_ago: float, i: int) -> dict[str, str]:
    when = datetime.now(UTC) - timedelta(days=days_ago)
    return {
        "title": f"Entry {i} on subject number {i} from {days_ago:g} days ago",
        "link": f"https://p.example/{i}",
        "guid": f"g{i}",
        "pubDate": format_datetime(when, usegmt=True),
        "description": f"<p>{i} " + "padding words " * 150 + "</p>",
    }


def test_prune_drops_old_entries_shrinks_the_file_and_they_stay_gone(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    items = [dated(200, i) for i in range(400)] + [dated(1, i) for i in range(400, 405)]
    feed_server.routes["/p.xml"] = Route(body=rss(items))
    (tmp_path / "feeds.yaml").write_text(
        f"retention: 30d\nfeeds:\n  - {{url: {feed_server.url('/p.xml')}, name: P}}\n"
    )
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    db = tmp_path / "aggregator.sqlite"

    def size() -> int:
        wal = Path(f"{db}-wal")
        return db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)

    size_before = size()
    result = run_cli("prune", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("prune: 400 entries and ")
    assert "stories older than 30d dropped; database " in result.stdout
    size_after = size()
    assert size_after < size_before / 4, (size_before, size_after)

    def guids() -> set[str]:
        out = run_cli("export", "entries", cwd=tmp_path).stdout.splitlines()
        return {json.loads(line)["guid"] for line in out}

    assert guids() == {f"g{i}" for i in range(400, 405)}
    # The feed changes (one entry more) and still lists the dropped ones: parsed again,
    # they stay out.
    feed_server.routes["/p.xml"] = Route(body=rss([*items, dated(0.5, 405)]))
    again = run_cli("run", "--once", "--all", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "P: 1 new" in again.stdout, again.stdout
    assert guids() == {f"g{i}" for i in range(400, 406)}
    assert run_cli("prune", "--older-than", "1h", cwd=tmp_path).returncode == 2
    assert run_cli("prune", "--older-than", "1d", cwd=tmp_path).returncode == 0


def test_an_old_member_of_a_story_still_published_is_kept(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    source = FeedSource(url="https://s.example/feed", name="S")
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}", create=True)
    store.sync_sources([source])

    def dated(key: str, published: datetime) -> Item:
        return item(key, key, published=published, updated=published)

    old, recent, alone = now - timedelta(days=120), now - timedelta(hours=2), now
    store.save_items(
        FeedState(url=source.url),
        [dated("old-in-live-story", old), dated("recent", recent), dated("old-alone", old)],
        now=now,
    )
    ids = {e.title: e.id for e in store.unassigned_entries()}
    store.assign_stories(
        Grouping(
            decisions={
                ids["old-in-live-story"]: Decision(story_id="live", similarity=1.0, reason="test"),
                ids["recent"]: Decision(story_id="live", similarity=1.0, reason="test"),
                ids["old-alone"]: Decision(story_id="dead", similarity=1.0, reason="test"),
            },
            merges={},
        ),
        now=alone,
    )
    done = store.prune(
        before=now - timedelta(days=90), needed_since=now - timedelta(days=3), now=now
    )
    assert (done.entries, done.stories) == (1, 1)
    assert {e.title for e in store.story_entries("live")} == {"old-in-live-story", "recent"}
    assert store.story_ids() == ("live",)


def prune_on_a_terminal(tmp_path: Path, answer: str, *args: str) -> tuple[int, str, str]:
    """`prune` with its standard input on a pseudo-terminal, answering `answer`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGGREGATOR_")}
    env["XDG_CACHE_HOME"] = str(tmp_path / ".cache")
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "aggregator", "prune", *args],
            cwd=tmp_path,
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        os.write(leader, answer.encode() + b"\n")
        out, err = process.communicate(timeout=60)
    finally:
        os.close(follower)
        os.close(leader)
    return process.returncode, out, err


def test_prune_says_what_would_go_and_asks_before_dropping_most(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """Issue 16: `--dry-run` drops nothing; on a terminal, dropping more than half of
    the store needs a yes."""
    items = [dated(5, i) for i in range(6)] + [dated(0.5, i) for i in range(6, 8)]
    feed_server.routes["/p.xml"] = Route(body=rss(items))
    (tmp_path / "feeds.yaml").write_text(
        f"publish: {{window: 1d}}\nfeeds:\n  - {{url: {feed_server.url('/p.xml')}, name: P}}\n"
    )
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0

    def stored() -> int:
        return len(run_cli("export", "entries", cwd=tmp_path).stdout.splitlines())

    result = run_cli("prune", "--older-than", "2d", "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # (how many stories the six make is the story engine's business)
    assert result.stdout.startswith("prune: would drop 6 of 8 entries and ")
    assert result.stdout.endswith(" stories older than 2d; nothing dropped (--dry-run)\n")
    assert stored() == 8
    code, out, err = prune_on_a_terminal(tmp_path, "n", "--older-than", "2d")
    assert code == 0 and out == "prune: nothing dropped\n"
    assert "prune: drop 6 of 8 entries and " in err and "older than 2d? [y/N]" in err
    assert stored() == 8
    code, out, _ = prune_on_a_terminal(tmp_path, "y", "--older-than", "2d")
    assert code == 0 and out.startswith("prune: 6 entries and ")
    assert stored() == 2
