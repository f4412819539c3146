"""The same CLI on SQLite and on PostgreSQL (`--db`): poll, re-poll, stories, publish,
archive, status, explain, export and prune give the same results on both."""

from __future__ import annotations

import json
from pathlib import Path

import feedparser
import pytest

from tests.conftest import postgres_database, run_cli
from tests.feeds import rfc822, rss
from tests.feedserver import FeedServer, Route

pytestmark = pytest.mark.clock  # dated on the real clock: also run a year ahead

OFFSET = {"alpha": 0, "beta": 4}
HEADLINES = [
    "Copper prices climb after Chilean mine strike",
    "Regional rail strike halts commuter trains in Bavaria",
    "Coffee harvest in Vietnam hit by late monsoon floods",
    "Museum returns bronze statues to Nigerian city of Benin",
    "Volcano on Iceland peninsula erupts for the ninth time",
    "Tennis champion withdraws from Paris tournament with injury",
    "City council approves new cycle lanes along the river",
    "Astronomers spot water vapour on a distant exoplanet",
]


def feed(name: str, count: int) -> bytes:
    return rss(
        [
            {
                "title": f"Helix Labs releases Aurora-{i}B model with open weights ({name})"
                if i == 0
                else HEADLINES[OFFSET[name] + i],
                "link": f"https://{name}.example/{i}",
                "guid": f"{name}-{i}",
                "pubDate": rfc822(9),
                "description": "Helix Labs released Aurora, an open-weights model."
                if i == 0
                else f"{HEADLINES[OFFSET[name] + i]}, {name} reports.",
            }
            for i in range(count)
        ]
    )


def test_the_pipeline_on_either_database(
    database: str, tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.routes["/a.xml"] = Route(body=feed("alpha", 4), etag='"a1"')
    feed_server.routes["/b.xml"] = Route(body=feed("beta", 3), etag='"b1"')
    (tmp_path / "feeds.yaml").write_text(
        "feeds:\n"
        f"  - {{url: {feed_server.url('/a.xml')}, name: alpha}}\n"
        f"  - {{url: {feed_server.url('/b.xml')}, name: beta}}\n"
    )
    db = ("--db", database)
    first = run_cli(*db, "run", "--once", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "alpha: 4 new" in first.stdout and "beta: 3 new" in first.stdout
    again = run_cli(*db, "run", "--once", "--all", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("not modified") == 2

    exported = run_cli(*db, "export", "entries", cwd=tmp_path)
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    assert len(rows) == 7 and len({r["guid"] for r in rows}) == 7
    stories = {r["story_id"] for r in rows}
    assert len(stories) == 6  # the two releases of Aurora-0B are one story
    atom = feedparser.parse(tmp_path / "output" / "feed.atom")
    assert len(atom.entries) == 6
    assert list((tmp_path / "output" / "archive").glob("feed-*.atom"))

    status = run_cli(*db, "status", "--json", cwd=tmp_path)
    states = {r["name"]: r for r in map(json.loads, status.stdout.splitlines())}
    assert states["alpha"]["entries"] == 4 and states["alpha"]["state"] == "ok"
    merged = next(r for r in rows if r["guid"] == "alpha-0")
    explained = run_cli(*db, "explain", str(merged["id"]), cwd=tmp_path)
    assert explained.returncode == 0, explained.stderr
    assert "beta" in explained.stdout

    pruned = run_cli(*db, "prune", "--older-than", "1d", cwd=tmp_path)
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout.startswith("prune: ")


def test_one_writer_at_a_time_on_either_database(
    database: str, tmp_path: Path, feed_server: FeedServer
) -> None:
    """Another writer holds the store's lock (on PostgreSQL an advisory lock, which every
    host sharing the database sees; on SQLite the lock file): a run waits `--wait`
    seconds, exits 5 naming the holder, and runs once the holder is gone."""
    import fcntl

    from sqlalchemy import create_engine, text

    from aggregator.run.lock import ADVISORY_KEY

    feed_server.routes["/a.xml"] = Route(body=feed("alpha", 2))
    (tmp_path / "feeds.yaml").write_text(
        f"feeds:\n  - {{url: {feed_server.url('/a.xml')}, name: alpha}}\n"
    )
    db = ("--db", database)
    if database.startswith("sqlite"):
        handle = open(database.removeprefix("sqlite:///") + ".lock", "a+")  # noqa: SIM115
        fcntl.flock(handle, fcntl.LOCK_EX)
        release = handle.close
    else:
        engine = create_engine(database)
        connection = engine.connect()
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_KEY})

        def release() -> None:
            connection.close()  # the session ends: its advisory lock goes with it
            engine.dispose()

    try:
        blocked = run_cli(*db, "run", "--once", "--wait", "1", cwd=tmp_path)
    finally:
        release()
    assert blocked.returncode == 5, blocked.stderr
    assert blocked.stderr.startswith("lock: ")
    assert "not starting a second writer" in blocked.stderr
    free = run_cli(*db, "run", "--once", cwd=tmp_path)
    assert free.returncode == 0, free.stderr
    assert "alpha: 2 new" in free.stdout


def test_copy_an_sqlite_store_to_postgresql(tmp_path: Path, feed_server: FeedServer) -> None:
    """`copy-store URL` moves everything; the runs on the new database go on where the old
    one stopped (conditional GETs, no entry twice, new ids after the copied ones), and a
    second copy into a database that is no longer empty is refused."""
    feed_server.routes["/a.xml"] = Route(body=feed("alpha", 3), etag='"a1"')
    feed_server.routes["/b.xml"] = Route(body=feed("beta", 3), etag='"b1"')
    (tmp_path / "feeds.yaml").write_text(
        "feeds:\n"
        f"  - {{url: {feed_server.url('/a.xml')}, name: alpha}}\n"
        f"  - {{url: {feed_server.url('/b.xml')}, name: beta}}\n"
    )
    assert run_cli("run", "--once", cwd=tmp_path).returncode == 0
    before = run_cli("export", "entries", cwd=tmp_path).stdout.splitlines()
    status_before = run_cli("status", "--json", cwd=tmp_path).stdout
    with postgres_database() as url:
        copied = run_cli("copy-store", url, cwd=tmp_path)
        assert copied.returncode == 0, copied.stderr
        assert "2 sources" in copied.stdout and "6 entries" in copied.stdout
        db = ("--db", url)
        assert run_cli(*db, "export", "entries", cwd=tmp_path).stdout.splitlines() == before
        assert run_cli(*db, "status", "--json", cwd=tmp_path).stdout == status_before

        again = run_cli(*db, "run", "--once", "--all", cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert again.stdout.count("not modified") == 2  # the validators came along
        feed_server.routes["/a.xml"] = Route(body=feed("alpha", 4), etag='"a2"')
        grown = run_cli(*db, "run", "--once", "--all", cwd=tmp_path)
        assert "alpha: 1 new" in grown.stdout, grown.stderr
        rows = [
            json.loads(line)
            for line in run_cli(*db, "export", "entries", cwd=tmp_path).stdout.splitlines()
        ]
        assert len(rows) == 7 and len({r["id"] for r in rows}) == 7
        assert max(r["id"] for r in rows) == 7  # the sequence went on after the copied ids

        refused = run_cli("copy-store", url, cwd=tmp_path)
        assert refused.returncode == 3
        assert "not empty" in refused.stderr
