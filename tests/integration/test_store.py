"""The store on a real SQLite file: migrations, WAL, idempotent saves, nothing lost."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

import aggregator.store
from aggregator.records import FeedSource, FeedState
from aggregator.store import Store
from aggregator.store.models import Base
from tests.conftest import NOW
from tests.records import item

SOURCE = FeedSource(url="https://s.example/feed", name="S")


def open_store(url: str) -> Store:
    store = Store(url, create=True)
    store.sync_sources([SOURCE])
    return store


def test_migrations_match_the_models(database, tmp_path):
    store = open_store(database)
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    head = ScriptDirectory(
        str(Path(aggregator.store.__file__).parent / "migrations")
    ).get_current_head()
    assert head == aggregator.store.HEAD  # the store skips Alembic when at HEAD
    if not database.startswith("sqlite"):
        return
    db = sqlite3.connect(tmp_path / "db.sqlite")
    head = ScriptDirectory(
        str(Path(aggregator.store.__file__).parent / "migrations")
    ).get_current_head()
    assert db.execute("select version_num from alembic_version").fetchone() == (head,)
    assert db.execute("pragma journal_mode").fetchone() == ("wal",)
    assert db.execute("pragma integrity_check").fetchone() == ("ok",)


def test_reopening_keeps_everything(database):
    store = open_store(database)
    state = FeedState(url=SOURCE.url, etag='"e"', last_success=NOW)
    assert store.save_items(state, [item("a"), item("b")], now=NOW) == (2, 0)
    store.close()
    again = open_store(database)
    assert len(list(again.export_entries())) == 2
    assert again.feed_states()[SOURCE.url].etag == '"e"'


def test_saving_the_same_items_twice_stores_nothing_new(database):
    store = open_store(database)
    state = FeedState(url=SOURCE.url)
    assert store.save_items(state, [item("a"), item("b")], now=NOW) == (2, 0)
    assert store.save_items(state, [item("a"), item("b")], now=NOW) == (0, 0)
    later = NOW + timedelta(hours=1)
    assert store.save_items(state, [item("a", title="T2")], now=later) == (0, 1)
    rows = {r.guid: r for r in store.export_entries()}
    assert len(rows) == 2
    assert rows["a"].title == "T2"
    assert rows["a"].updated == datetime(2026, 11, 28, 13, tzinfo=UTC)  # the edit moved it forward


def test_an_undated_entry_keeps_its_first_seen_date(database):
    store = open_store(database)
    state = FeedState(url=SOURCE.url)
    store.save_items(state, [item("a", dated=False)], now=NOW)
    later = NOW + timedelta(days=1)
    store.save_items(
        state, [item("a", title="edited", published=later, updated=later, dated=False)], now=later
    )
    (row,) = store.export_entries()
    assert row.published == datetime(2026, 11, 28, 12, tzinfo=UTC)


def test_removed_sources_keep_their_entries(database):
    store = open_store(database)
    store.save_items(FeedState(url=SOURCE.url), [item("a")], now=NOW)
    store.sync_sources([replace(SOURCE, url="https://other.example/feed")])
    assert [r.feed_url for r in store.export_entries()] == [SOURCE.url]


def test_many_items_in_one_feed(database):
    store = open_store(database)
    items = [item(f"k{i}") for i in range(1500)]  # more than one IN-clause chunk
    assert store.save_items(FeedState(url=SOURCE.url), items, now=NOW) == (1500, 0)
    assert store.save_items(FeedState(url=SOURCE.url), items, now=NOW) == (0, 0)


def test_upgrade_from_the_first_schema_keeps_entries(tmp_path):
    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    from sqlalchemy import create_engine

    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option(
        "script_location", str(Path(aggregator.store.__file__).parent / "migrations")
    )
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0001")
        connection.exec_driver_sql(
            "insert into sources (id, url, name, weight, tags, error_count) "
            "values (1, 'https://s.example/feed', 'S', 1.0, '[]', 0)"
        )
        connection.exec_driver_sql(
            "insert into entries (source_id, key, title, summary_html, text, tags, published, "
            "updated, first_seen, content_hash) values (1, 'k', 'Old', '', 'old text', '[]', "
            "'2026-11-01 00:00:00', '2026-11-01 00:00:00', '2026-11-01 00:00:00', 'h')"
        )
    engine.dispose()
    store = Store(url)  # upgrades to head on open
    (row,) = store.export_entries()
    assert row.title == "Old"


def test_guids_that_churn_on_every_poll_do_not_flood_the_store(database):
    store = open_store(database)
    state = FeedState(url=SOURCE.url)
    for poll in range(5):
        items = [
            item(
                f"guid-{poll}-{n}",
                url=f"https://s.example/{n}",
                canonical_url=f"https://s.example/{n}",
                content_hash=f"h{n}",
            )
            for n in range(3)
        ]
        new, changed = store.save_items(state, items, now=NOW + timedelta(hours=poll))
        assert (new, changed) == ((3, 0) if poll == 0 else (0, 0))
    rows = list(store.export_entries())
    assert len(rows) == 3
    assert {r.guid for r in rows} == {"guid-4-0", "guid-4-1", "guid-4-2"}


def test_churn_without_links_falls_back_to_content(database):
    store = open_store(database)
    state = FeedState(url=SOURCE.url)
    first = item("a1", url=None, canonical_url=None, content_hash="same")
    assert store.save_items(state, [first], now=NOW) == (1, 0)
    again = item("a2", url=None, canonical_url=None, content_hash="same")
    assert store.save_items(state, [again], now=NOW) == (0, 0)
    assert len(list(store.export_entries())) == 1


def test_distinct_entries_sharing_one_link_are_kept(database):
    store = open_store(database)
    state = FeedState(url=SOURCE.url)
    home = "https://s.example/"
    items = [item(f"post-{n}", title=f"Post {n}", url=home, canonical_url=home) for n in range(3)]
    assert store.save_items(state, items, now=NOW) == (3, 0)
    more = [*items, item("post-3", title="Post 3", url=home, canonical_url=home)]
    assert store.save_items(state, more, now=NOW) == (1, 0)
    assert len(list(store.export_entries())) == 4


def test_a_feed_linking_every_entry_to_one_page_loses_nothing(database):
    store = open_store(database)
    state = FeedState(url=SOURCE.url)
    home = "https://s.example/"
    for window in range(4):  # each poll: the newest three posts; the oldest drops off
        items = [
            item(f"post-{n}", title=f"Post {n}", url=home, canonical_url=home)
            for n in range(window, window + 3)
        ]
        store.save_items(state, items, now=NOW + timedelta(hours=window))
    assert sorted(r.title for r in store.export_entries()) == [f"Post {n}" for n in range(6)]


def test_posting_hours_count_distinct_hours(database):
    """The posting rate `interval: auto` uses, computed by the database on either: a burst
    within one hour counts once, entries before `since` not at all."""
    store = open_store(database)
    other = FeedSource(url="https://o.example/feed", name="O")
    store.sync_sources([SOURCE, other])
    times = [NOW, NOW + timedelta(minutes=5), NOW + timedelta(minutes=59), NOW + timedelta(hours=3)]
    items = [item(f"k{i}", published=t) for i, t in enumerate(times)]
    old = item("old", published=NOW - timedelta(days=30))
    store.save_items(FeedState(url=SOURCE.url), [*items, old], now=NOW)
    assert store.posting_hours(since=NOW - timedelta(days=14)) == {SOURCE.url: 2}
    assert store.posting_hours(since=NOW - timedelta(days=60), source_url=SOURCE.url) == {
        SOURCE.url: 3
    }
    assert store.posting_hours(since=NOW, source_url=other.url) == {}


def test_claims(database):
    """A due source is claimed once; the poll's outcome ends the claim; a claim older than
    the lease is taken over; a released claim frees the source."""
    store = open_store(database)
    lease = timedelta(minutes=30)
    claim, claimed = store.claim([SOURCE.url], now=NOW, lease=lease)
    assert claimed == (SOURCE.url,) and store.claim_of(SOURCE.url) == claim
    assert store.claim([SOURCE.url], now=NOW, lease=lease)[1] == ()  # claimed already
    assert store.claimed() == 1
    later = NOW + lease + timedelta(seconds=1)
    taken, again = store.claim([SOURCE.url], now=later, lease=lease)
    assert again == (SOURCE.url,) and taken != claim
    store.save_state(FeedState(url=SOURCE.url, next_due=later + timedelta(hours=1)))
    assert store.claim_of(SOURCE.url) is None and store.claimed() == 0
    assert store.claim([SOURCE.url], now=later, lease=lease)[1] == ()  # not due
    forced, got = store.claim([SOURCE.url], now=later, lease=lease, due=False)
    assert got == (SOURCE.url,)
    store.release(SOURCE.url, "another claim")
    assert store.claim_of(SOURCE.url) == forced
    store.release(SOURCE.url, forced)
    assert store.claim_of(SOURCE.url) is None
    with store.polling(SOURCE.url) as mine:
        assert mine
        if not database.startswith("sqlite"):
            with store.polling(SOURCE.url) as second:  # another session: refused at once
                assert not second
